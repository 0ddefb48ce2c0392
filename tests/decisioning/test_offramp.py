"""The drift off-ramp in the decision statuses: only the affected scope drops to
recommend-only, a person's approval still counts, and only a person lifts the ceiling."""

from __future__ import annotations

import pytest
from worlds.decisions import build_batch, with_autonomy

from marketing_ops.decisioning import (
    ApprovalError,
    apply_offramp,
    apply_scoped_autonomy,
    approve,
    drop_scope_autonomy,
    load_policies,
    read_approvals,
    restore_scope_autonomy,
    scoped_autonomy,
    scopes_for,
)


def test_offramp_turns_auto_approvals_into_proposals(home, policies) -> None:
    """In a lowered scope, actions the agent approved itself become proposals; an action a
    person approved keeps its approval; other channels are untouched."""
    full_batch = build_batch(with_autonomy(policies, "full"))
    apply_offramp(home, {"channel:paid_search": ["test"]})
    search = full_batch[full_batch["channel"] == "paid_search"]["decision_id"].tolist()
    assert set(full_batch["status"]) == {"approved"}
    assert search, "the fixture batch has a paid search action"
    approve(home, search[0], "Head of Marketing", policies.roles, action_type="budget_allocation")
    out = apply_scoped_autonomy(full_batch, scoped_autonomy(home), read_approvals(home))
    got = dict(zip(out["decision_id"], out["status"], strict=True))
    assert got[search[0]] == "approved"
    assert all(got[d] == "proposed" for d in search[1:])
    others = full_batch[full_batch["channel"] != "paid_search"]
    assert [got[d] for d in others["decision_id"]] == others["status"].tolist()


def test_only_a_person_restores_autonomy(home) -> None:
    """The agent (or anyone not in roles.yaml) cannot lift the off-ramp; an approver can."""
    roles = load_policies(home.policies).roles
    apply_offramp(home, {"channel:display": ["efficiency fell"]})
    with pytest.raises(ApprovalError, match="only a person"):
        restore_scope_autonomy(home, "channel:display", "drift off-ramp", roles)
    assert "channel:display" in scoped_autonomy(home)
    restore_scope_autonomy(home, "channel:display", "Head of Marketing", roles, "checked")
    assert scoped_autonomy(home) == {}
    history = (home.ledger / "autonomy_history.jsonl").read_text().splitlines()
    assert len(history) == 2 and "Head of Marketing" in history[-1]


@pytest.mark.parametrize(
    ("action_type", "channel", "expected"),
    [
        ("budget_allocation", "display", ["budget", "channel:display"]),
        ("content_selection", "email", ["content", "channel:email"]),
        ("send_time", None, ["content"]),
    ],
)
def test_scopes_for(action_type, channel, expected) -> None:
    """An action is covered by its policy's scope and its channel's scope."""
    assert scopes_for(action_type, channel) == expected


def test_dropping_never_raises_a_ceiling(home) -> None:
    """A scope already off stays off when the off-ramp asks for recommend-only."""
    drop_scope_autonomy(home, "budget", "kill", by="ops", level="off")
    drop_scope_autonomy(home, "budget", "drift")
    assert scoped_autonomy(home)["budget"].level == "off"
    with pytest.raises(ValueError, match="scope"):
        drop_scope_autonomy(home, "everything", "typo")
