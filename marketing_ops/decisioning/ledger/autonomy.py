"""The run-time autonomy switch: a ceiling over the policy files, global and per scope.

The run-time autonomy level (``ledger/autonomy.json``) is a ceiling over the policy files:
people *lower* autonomy at once here (the kill switch sets ``off``; the drift off-ramp sets
``recommend_only``), while raising it is a change to ``autonomy.yaml``, which is versioned.
Every change is also appended to ``ledger/autonomy_history.jsonl``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning.batch.status import hold_budget_within_total, set_status
from marketing_ops.decisioning.ledger.approvals import ApprovalError
from marketing_ops.decisioning.ledger.chain import canonical
from marketing_ops.decisioning.policy import AUTONOMY_LEVELS, RolesPolicy, stricter

__all__ = [
    "AutonomyState",
    "apply_offramp",
    "apply_scoped_autonomy",
    "autonomy_state",
    "drop_scope_autonomy",
    "restore_scope_autonomy",
    "scoped_autonomy",
    "scopes_for",
    "set_global_autonomy",
    "status_after_ceiling",
]


@dataclass(frozen=True)
class AutonomyState:
    """The run-time ceiling on autonomy; ``None`` means the policy files decide alone."""

    level: str | None = None
    set_by: str = ""
    set_at: str = ""
    reason: str = ""

    @property
    def kill_switch_on(self) -> bool:
        return self.level == "off"

    def __str__(self) -> str:
        if self.level is None:
            return "as the policy files say (no run-time limit)"
        what = "off (kill switch)" if self.kill_switch_on else f"at most {self.level}"
        why = f": {self.reason}" if self.reason else ""
        return f"{what}, set by {self.set_by} at {self.set_at}{why}"


def _autonomy_file(home: DataHome) -> Path:
    return home.ledger / "autonomy.json"


def autonomy_state(home: DataHome) -> AutonomyState:
    """The run-time autonomy ceiling (no file: the policy files decide alone)."""
    path = _autonomy_file(home)
    if not path.exists():
        return AutonomyState()
    doc = json.loads(path.read_text())
    level = doc.get("level")
    if level is not None and level not in AUTONOMY_LEVELS:
        raise ValueError(
            f"{path}: level: expected one of {', '.join(AUTONOMY_LEVELS)} or null, got {level!r}"
        )
    return AutonomyState(level, doc.get("set_by", ""), doc.get("set_at", ""), doc.get("reason", ""))


def set_global_autonomy(
    home: DataHome, level: str | None, who: str, reason: str = ""
) -> AutonomyState:
    """Set the run-time ceiling: ``off`` is the kill switch, ``None`` lifts the limit.

    Every change is also appended to ``ledger/autonomy_history.jsonl`` so who pulled the
    switch, and when, stays on record.
    """
    if level is not None and level not in AUTONOMY_LEVELS:
        raise ValueError(
            f"autonomy level: expected one of {', '.join(AUTONOMY_LEVELS)}, got {level!r}"
        )
    if not who:
        raise ValueError("set_global_autonomy: who must name the person or process")
    state = AutonomyState(level, who, datetime.now(UTC).isoformat(timespec="seconds"), reason)
    doc = {"level": level, "set_by": who, "set_at": state.set_at, "reason": reason}
    home.ledger.mkdir(parents=True, exist_ok=True)
    tmp = _autonomy_file(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2))
    tmp.replace(_autonomy_file(home))  # atomic: a reader never sees half a switch
    with (home.ledger / "autonomy_history.jsonl").open("a") as f:
        f.write(canonical(doc) + "\n")
    return state


# --------------------------------------------------------------------------- scoped off-ramp
# The drift off-ramp lowers autonomy for the *affected scope* only (one channel, or the budget
# or content policy), so one drifting channel does not stop everything. Scopes live beside
# the global switch in ``ledger/autonomy_scopes.json``; every change is also appended to
# ``ledger/autonomy_history.jsonl``. Lowering is automatic; lifting needs a named approver.

_SCOPE = re.compile(r"^(budget|content|channel:[a-z0-9_]+)$")


def _scopes_file(home: DataHome) -> Path:
    return home.ledger / "autonomy_scopes.json"


def _check_scope(scope: str) -> str:
    if not _SCOPE.match(scope or ""):
        raise ValueError(
            f"autonomy scope: expected budget, content or channel:<channel>, got {scope!r}"
        )
    return scope


def scopes_for(action_type: str, channel: str | None) -> list[str]:
    """The scopes that cover an action: its policy (budget/content) and its channel."""
    policy = "budget" if action_type == "budget_allocation" else "content"
    return [policy] + ([f"channel:{channel}"] if channel else [])


def scoped_autonomy(home: DataHome) -> dict[str, AutonomyState]:
    """Scope -> its run-time ceiling (only scopes that were lowered are listed)."""
    path = _scopes_file(home)
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    out = {}
    for scope, s in doc.items():
        level = s.get("level")
        if level not in AUTONOMY_LEVELS:
            raise ValueError(f"{path}: {scope}.level: expected one of {AUTONOMY_LEVELS}")
        out[_check_scope(scope)] = AutonomyState(
            level, s.get("set_by", ""), s.get("set_at", ""), s.get("reason", "")
        )
    return out


def _write_scopes(home: DataHome, scopes: dict[str, AutonomyState], change: dict) -> None:
    home.ledger.mkdir(parents=True, exist_ok=True)
    doc = {
        k: {"level": v.level, "set_by": v.set_by, "set_at": v.set_at, "reason": v.reason}
        for k, v in sorted(scopes.items())
    }
    tmp = _scopes_file(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2))
    tmp.replace(_scopes_file(home))
    with (home.ledger / "autonomy_history.jsonl").open("a") as f:
        f.write(canonical(change) + "\n")


def drop_scope_autonomy(
    home: DataHome,
    scope: str,
    reason: str,
    by: str = "drift off-ramp",
    level: str = "recommend_only",
) -> AutonomyState:
    """Lower one scope's ceiling at once (never raises it: a stricter level already set stays)."""
    _check_scope(scope)
    if level not in AUTONOMY_LEVELS or level == "full":
        raise ValueError(f"drop_scope_autonomy: level must be lower than full, got {level!r}")
    scopes = scoped_autonomy(home)
    current = scopes.get(scope)
    if current is not None and stricter(current.level, level) == current.level:
        return current
    state = AutonomyState(level, by, datetime.now(UTC).isoformat(timespec="seconds"), reason)
    scopes[scope] = state
    _write_scopes(
        home,
        scopes,
        {"scope": scope, "level": level, "set_by": by, "set_at": state.set_at, "reason": reason},
    )
    return state


def apply_offramp(
    home: DataHome, crossed: dict[str, list[str]], by: str = "drift off-ramp"
) -> dict[str, AutonomyState]:
    """Drop every scope a drift report crossed to recommend-only, with its reasons."""
    return {
        scope: drop_scope_autonomy(home, scope, "; ".join(reasons), by=by)
        for scope, reasons in sorted(crossed.items())
    }


def restore_scope_autonomy(
    home: DataHome, scope: str, who: str, roles: RolesPolicy, reason: str = ""
) -> None:
    """Lift a scope's ceiling: only a person named in roles.yaml who may approve the scope's
    actions can do it; the agent never restores its own autonomy."""
    _check_scope(scope)
    person = roles.find(who)
    if person is None:
        names = ", ".join(a.name for a in roles.approvers) or "nobody"
        raise ApprovalError(
            f"{who!r} is not an approver in roles.yaml (approvers: {names}); "
            "only a person may return a scope to autonomy"
        )
    needed = "content_selection" if scope == "content" else "budget_allocation"
    if not person.may(needed):
        raise ApprovalError(f"{who!r} may not approve {needed} actions, so cannot restore {scope}")
    scopes = scoped_autonomy(home)
    if scope not in scopes:
        return
    del scopes[scope]
    _write_scopes(
        home,
        scopes,
        {
            "scope": scope,
            "level": None,
            "set_by": who,
            "set_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason or "restored by a person",
        },
    )


def apply_scoped_autonomy(
    batch: pd.DataFrame, scopes: dict[str, AutonomyState], ledger_entries: list[dict]
) -> pd.DataFrame:
    """The batch with scope ceilings applied (pure), then the total-budget guardrail.

    An action in a lowered scope that the agent approved by itself becomes ``proposed``
    (recommend-only) or ``blocked`` (off), with the ceiling and who set it as its reason; one
    a person approved in the ledger keeps its approval, since recommend-only means a person
    decides. A budget cut held back here keeps last period's spend, so the increases it
    funded wait too (:func:`~marketing_ops.decisioning.batch.status.hold_budget_within_total`).
    """
    if batch.empty:
        return batch
    by_person = {e["decision_id"] for e in ledger_entries if e.get("verdict") == "approved"}
    out = batch.copy()
    for i, row in out.iterrows():
        if row["status"] != "approved" or row["decision_id"] in by_person:
            continue
        lowered = [
            (s, scopes[s])
            for s in scopes_for(str(row["action_type"]), row.get("channel"))
            if s in scopes
        ]
        if not lowered:
            continue
        level = lowered[0][1].level
        for _, other in lowered[1:]:
            level = stricter(level, other.level)
        status = status_after_ceiling(level)
        if status == "approved":
            continue
        why = "; ".join(f"{s} {st}" for s, st in lowered)
        set_status(out, i, status, f"run-time ceiling: {why}", [f"run-time ceiling: {why}"])
    return hold_budget_within_total(out, by_person)


def status_after_ceiling(level: str) -> str:
    """What an auto-approved action becomes under a lowered ceiling."""
    return "blocked" if level == "off" else "proposed" if level == "recommend_only" else "approved"
