"""The approval ledger: who approved or rejected which decision, hash-chained.

Approvals are an append-only JSON-lines file (``ledger/approvals.jsonl``) in the hash chain of
:mod:`.chain`, so editing or deleting any earlier line is detected on read. Only approvers
named in ``roles.yaml`` may approve or reject, and only what their role covers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning.batch.status import set_status
from marketing_ops.decisioning.ledger.chain import append_link, read_chain
from marketing_ops.decisioning.policy import RolesPolicy

__all__ = [
    "ApprovalError",
    "apply_approvals",
    "approve",
    "read_approvals",
    "reject",
]


class ApprovalError(PermissionError):
    """Someone not allowed to approve tried to (or the decision cannot be approved)."""


def _ledger_file(home: DataHome) -> Path:
    return home.ledger / "approvals.jsonl"


def read_approvals(home: DataHome, verify: bool = True) -> list[dict]:
    """Every approval entry, oldest first; raises :class:`LedgerTampered` on a broken chain."""
    return read_chain(_ledger_file(home), verify)


def _append(
    home: DataHome,
    decision_id: str,
    verdict: str,
    approver: str,
    roles: RolesPolicy,
    action_type: str | None,
    reason: str,
) -> dict:
    person = roles.find(approver)
    if person is None:
        names = ", ".join(a.name for a in roles.approvers) or "nobody"
        raise ApprovalError(f"{approver!r} is not an approver in roles.yaml (approvers: {names})")
    if not person.may(action_type):
        what = action_type or "an action of unstated type"
        raise ApprovalError(
            f"{approver!r} may approve {', '.join(person.may_approve)} in roles.yaml, not {what}"
        )
    # append_link refuses to extend a tampered chain
    return append_link(
        _ledger_file(home),
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "decision_id": decision_id,
            "verdict": verdict,
            "approver": approver,
            "action_type": action_type,
            "reason": reason,
        },
    )


def approve(
    home: DataHome,
    decision_id: str,
    approver: str,
    roles: RolesPolicy,
    *,
    action_type: str | None = None,
    reason: str = "",
) -> dict:
    """Record that a named approver approves a decision. Without ``action_type`` only an
    approver who may approve everything (``*``) is accepted."""
    return _append(home, decision_id, "approved", approver, roles, action_type, reason)


def reject(
    home: DataHome,
    decision_id: str,
    approver: str,
    roles: RolesPolicy,
    *,
    action_type: str | None = None,
    reason: str = "",
) -> dict:
    """Record that a named approver rejects a decision; a rejection is final."""
    return _append(home, decision_id, "rejected", approver, roles, action_type, reason)


def apply_approvals(batch: pd.DataFrame, ledger_entries: list[dict]) -> pd.DataFrame:
    """The batch with ledger verdicts applied (pure).

    A rejection wins over any approval of the same decision. Approvals move only
    ``pending_approval`` and ``proposed`` actions to ``approved``; blocked, executed and
    rolled-back actions keep their status (an approval cannot lift the kill switch).
    """
    rejected = {e["decision_id"]: e for e in ledger_entries if e.get("verdict") == "rejected"}
    approved = {
        e["decision_id"]: e
        for e in ledger_entries
        if e.get("verdict") == "approved" and e["decision_id"] not in rejected
    }
    out = batch.copy()
    waiting = out["status"].isin(["pending_approval", "proposed", "approved"])
    for i in out.index[waiting & out["decision_id"].isin(rejected)]:
        set_status(out, i, "rejected", _verdict_words(rejected[out.at[i, "decision_id"]]))
    can_approve = out["status"].isin(["pending_approval", "proposed"])
    for i in out.index[can_approve & out["decision_id"].isin(approved)]:
        set_status(out, i, "approved", _verdict_words(approved[out.at[i, "decision_id"]]))
    return out


def _verdict_words(entry: dict) -> str:
    why = f": {entry['reason']}" if entry.get("reason") else ""
    return f"{entry['verdict']} by {entry['approver']} at {entry.get('at', '')}{why}"
