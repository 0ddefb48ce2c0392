"""Approval ledger and autonomy switch: only named approvers, a tamper-evident chain,
rejections that stick and a kill switch that persists."""

from __future__ import annotations

import json

import pytest
from worlds.decisions import build_batch, with_autonomy

from marketing_ops.decisioning import (
    ApprovalError,
    LedgerTampered,
    apply_approvals,
    approve,
    autonomy_state,
    read_approvals,
    reject,
    set_global_autonomy,
)


def test_unlisted_approver_is_refused(home, policies) -> None:
    """Someone not in roles.yaml cannot approve, and nothing is written."""
    with pytest.raises(ApprovalError, match=r"'Mallory' is not an approver in roles.yaml"):
        approve(
            home, "D-20261123-abcdef12", "Mallory", policies.roles, action_type="budget_allocation"
        )
    assert read_approvals(home) == []


@pytest.mark.parametrize(
    ("approver", "action_type", "allowed"),
    [
        ("Performance Lead", "budget_allocation", True),
        ("Performance Lead", "content_selection", False),
        ("Performance Lead", None, False),  # unstated type: only '*' approvers
        ("CRM Manager", "send_time", True),
        ("Head of Marketing", None, True),
    ],
)
def test_approvers_approve_only_what_their_role_covers(
    home, policies, approver, action_type, allowed
) -> None:
    """roles.yaml decides what each person may approve."""
    if allowed:
        entry = approve(home, "D-1", approver, policies.roles, action_type=action_type)
        assert entry["verdict"] == "approved" and read_approvals(home)[-1]["approver"] == approver
    else:
        with pytest.raises(ApprovalError, match="may approve"):
            approve(home, "D-1", approver, policies.roles, action_type=action_type)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda lines: [lines[0], lines[1].replace("Head of Marketing", "CRM Manager"), lines[2]],
        lambda lines: [lines[1], lines[2]],  # first entry deleted
        lambda lines: [lines[0], lines[2]],  # middle entry deleted
    ],
)
def test_hash_chain_detects_tampering(home, policies, tamper) -> None:
    """Editing or deleting any line breaks the chain: reading (and appending) refuses."""
    for d in ("D-1", "D-2", "D-3"):
        approve(home, d, "Head of Marketing", policies.roles)
    path = home.ledger / "approvals.jsonl"
    assert len(read_approvals(home)) == 3
    path.write_text("\n".join(tamper(path.read_text().splitlines())) + "\n")
    with pytest.raises(LedgerTampered, match="hash chain broken"):
        read_approvals(home)
    with pytest.raises(LedgerTampered):
        approve(home, "D-4", "Head of Marketing", policies.roles)


def test_apply_approvals_moves_only_waiting_actions(home, policies) -> None:
    """Approval lifts pending and proposed actions; rejection wins even over an auto-approval;
    blocked actions stay blocked."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold"))
    pending = batch.loc[batch["status"] == "pending_approval", "decision_id"].iloc[0]
    auto = batch.loc[batch["status"] == "approved", "decision_id"].iloc[0]
    approve(home, pending, "Head of Marketing", policies.roles)
    reject(home, auto, "Head of Marketing", policies.roles, reason="brand freeze")
    out = apply_approvals(batch, read_approvals(home)).set_index("decision_id")
    assert out.loc[pending, "status"] == "approved"
    assert out.loc[auto, "status"] == "rejected"
    assert batch.set_index("decision_id").loc[pending, "status"] == "pending_approval"  # pure

    blocked = build_batch(with_autonomy(policies, "off"))
    approve(home, blocked["decision_id"].iloc[0], "Head of Marketing", policies.roles)
    assert set(apply_approvals(blocked, read_approvals(home))["status"]) == {"blocked"}


def test_rejection_is_final(home, policies) -> None:
    """A later approval does not undo a rejection of the same decision."""
    batch = build_batch(with_autonomy(policies, "recommend_only"))
    d = batch["decision_id"].iloc[0]
    reject(home, d, "Head of Marketing", policies.roles)
    approve(home, d, "Head of Marketing", policies.roles)
    assert (
        apply_approvals(batch, read_approvals(home)).set_index("decision_id").loc[d, "status"]
        == "rejected"
    )


def test_kill_switch_persists_with_who_and_why(home) -> None:
    """Autonomy off is stored, read back as the kill switch, and recorded in the history."""
    assert autonomy_state(home).level is None and not autonomy_state(home).kill_switch_on
    set_global_autonomy(home, "off", "Head of Marketing", reason="tracking outage")
    state = autonomy_state(home)
    assert state.kill_switch_on and state.set_by == "Head of Marketing"
    assert "kill switch" in str(state) and "tracking outage" in str(state)
    set_global_autonomy(home, None, "Head of Marketing")
    assert not autonomy_state(home).kill_switch_on
    history = [
        json.loads(x) for x in (home.ledger / "autonomy_history.jsonl").read_text().splitlines()
    ]
    assert [h["level"] for h in history] == ["off", None]
    with pytest.raises(ValueError, match="expected one of"):
        set_global_autonomy(home, "sometimes", "Head of Marketing")
