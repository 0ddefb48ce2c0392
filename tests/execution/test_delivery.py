"""Execution: only approved actions go out, once, without PII; the kill switch stops all."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from marketing_ops.decisioning import apply_approvals, approve, read_approvals, reject
from marketing_ops.execution import SandboxConnector, action_payload, execute_batch

STATUSES = ["proposed", "pending_approval", "approved", "rejected", "blocked", "executed"]


@pytest.fixture
def batch(full_batch) -> pd.DataFrame:
    """A batch with one row per status (status overwritten by hand for the test)."""
    b = full_batch.head(len(STATUSES)).copy()
    b["status"] = STATUSES
    return b


def _outbox_files(outbox: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in outbox.rglob("*.json")}


def test_only_approved_actions_execute(batch, tmp_path) -> None:
    """Of one row per status, only the approved one is delivered and becomes executed."""
    out = execute_batch(batch, {"*": SandboxConnector(tmp_path / "outbox")}, kill_switch_on=False)
    approved = batch.loc[batch["status"] == "approved", "decision_id"].item()
    assert set(_outbox_files(tmp_path / "outbox")) == {approved}
    got = dict(zip(out["decision_id"], out["status"], strict=True))
    assert got[approved] == "executed"
    assert [got[d] for d in batch["decision_id"] if d != approved] == [
        s for s in STATUSES if s != "approved"
    ]


def test_kill_switch_stops_an_approved_batch(full_batch, tmp_path) -> None:
    """With the kill switch on, an all-approved batch sends nothing and stays approved."""
    b = full_batch
    out = execute_batch(b, {"*": SandboxConnector(tmp_path / "outbox")}, kill_switch_on=True)
    assert _outbox_files(tmp_path / "outbox") == {}
    assert set(out["status"]) == {"approved"} and out["note"].str.contains("kill switch").all()


def test_rejected_never_executes(home, policies, full_batch) -> None:
    """A decision rejected in the ledger after auto-approval is not delivered."""
    b = full_batch
    target = b["decision_id"].iloc[0]
    reject(home, target, "Head of Marketing", policies.roles)
    approve(home, target, "Head of Marketing", policies.roles)
    out = execute_batch(
        apply_approvals(b, read_approvals(home)), {"*": SandboxConnector(home.outbox)}, False
    )
    assert out.set_index("decision_id").loc[target, "status"] == "rejected"
    assert target not in _outbox_files(home.outbox)
    assert len(_outbox_files(home.outbox)) == len(b) - 1


def test_sandbox_is_idempotent(full_batch, tmp_path) -> None:
    """A second run delivers nothing new and rewrites no file, yet reports the actions executed."""
    b = full_batch
    connectors = {"*": SandboxConnector(tmp_path / "outbox")}
    first = execute_batch(b, connectors, kill_switch_on=False)
    files = _outbox_files(tmp_path / "outbox")
    second = execute_batch(b, connectors, kill_switch_on=False)
    assert first["delivered"].all() and not second["delivered"].any()
    assert second["already_delivered"].all() and set(second["status"]) == {"executed"}
    assert _outbox_files(tmp_path / "outbox") == files
    assert {p.parent.name for p in (tmp_path / "outbox").rglob("*.json")} == set(b["channel"])


def test_dry_run_writes_nothing(full_batch, tmp_path) -> None:
    """A dry run says what it would do and leaves the outbox empty."""
    b = full_batch
    out = execute_batch(
        b, {"*": SandboxConnector(tmp_path / "outbox")}, kill_switch_on=False, dry_run=True
    )
    assert _outbox_files(tmp_path / "outbox") == {} and set(out["status"]) == {"approved"}


def test_payload_is_tagged_and_free_of_pii(full_batch, tmp_path) -> None:
    """The outbox file names the audience by id and carries utm_id = decision id."""
    b = full_batch
    execute_batch(b, {"*": SandboxConnector(tmp_path / "outbox")}, kill_switch_on=False)
    content = b[b["action_type"] == "content_selection"].iloc[0]
    payload = json.loads(
        (tmp_path / "outbox" / "email" / f"{content['decision_id']}.json").read_text()
    )
    assert payload["tracking"]["utm_id"] == content["decision_id"]
    assert payload["tracking"]["utm_medium"] == "email"
    assert payload["audience_id"] == content["audience_id"]
    assert "@" not in json.dumps(payload)
    budget = b[b["action_type"] == "budget_allocation"].iloc[0]
    payload = json.loads(
        (tmp_path / "outbox" / budget["channel"] / f"{budget['decision_id']}.json").read_text()
    )
    assert sum(d["amount"] for d in payload["daily_amounts"]) == pytest.approx(
        budget["amount"], abs=0.05
    )


@pytest.mark.parametrize("leak", ["jane.doe@example.com", "+49 170 1234567"])
def test_payload_with_pii_is_refused(full_batch, leak: str) -> None:
    """A row that somehow carries an email or phone number is refused, not sent."""
    row = full_batch.iloc[0].to_dict()
    row["audience_id"] = leak
    with pytest.raises(ValueError, match="email or phone"):
        action_payload(row)
