"""Rollback: put a batch's channels back on the allocations that ran before it.

A rollback is itself a set of actions, sent through the same connectors as any other, so it
is signed, idempotent and recorded like one:

- each executed budget action of the batch gets a *restore* action for the same channel (or
  campaign) over the same days, at the amount of the newest executed budget action for that
  channel in an earlier batch (or, when there was none, at the spend of the period before the
  batch, which the action's rationale recorded as ``last_period_amount``);
- each executed content action gets a *cancel* action (a send already delivered cannot be
  unsent; a channel that has not sent yet drops it).

Restore ids hash the rolled-back decision id, so rolling back twice sends nothing new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

__all__ = ["ROLLBACK_COLUMNS", "RollbackPlan", "plan_rollback", "rollback_records"]

ROLLBACK_COLUMNS = [
    "batch_id",
    "rollback_id",
    "decision_id",
    "replaces_decision_id",
    "action_type",
    "channel",
    "campaign_id",
    "amount_before",
    "amount_restored",
    "restored_from",
    "status",
    "delivered",
    "note",
    "requested_by",
    "reason",
    "rolled_back_at",
]


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:8]


@dataclass
class RollbackPlan:
    """The restore and cancel actions (decision-contract rows) and what they replace."""

    batch_id: str
    rollback_id: str
    actions: pd.DataFrame  # rows in the decision contract's columns, status approved
    replaces: dict[str, str]  # restore decision id -> rolled-back decision id
    restored_from: dict[str, str]  # restore decision id -> earlier batch id or "last period"
    amount_before: dict[str, float]


def _rationale(row: dict) -> dict:
    try:
        return json.loads(row.get("rationale") or "{}")
    except (TypeError, ValueError):
        return {}


def _reshaped(previous: dict | None, target: dict, amount: float) -> list[dict]:
    """Daily amounts for the restored period: the earlier plan's daily shape on the rolled-back
    plan's dates (even split when either has no phasing), summing to ``amount``."""
    dates = [p["date"] for p in _rationale(target).get("phasing", [])] or [
        str(target["scheduled_for"])[:10]
    ]
    shape = [float(p["amount"]) for p in _rationale(previous or {}).get("phasing", [])]
    if len(shape) != len(dates) or sum(shape) <= 0:
        shape = [1.0] * len(dates)
    total = sum(shape)
    return [
        {"date": d, "amount": round(amount * s / total, 2)}
        for d, s in zip(dates, shape, strict=True)
    ]


def plan_rollback(decisions: pd.DataFrame, batch_id: str) -> RollbackPlan:
    """The actions that undo ``batch_id`` (pure: reads the decisions, writes nothing)."""
    batch = decisions[decisions["batch_id"] == batch_id]
    if batch.empty:
        raise ValueError(f"BATCH_ID: no batch {batch_id!r} in agent.decisions")
    executed = batch[batch["status"] == "executed"]
    if executed.empty:
        raise ValueError(
            f"batch {batch_id} has no executed action to roll back "
            f"(statuses: {', '.join(sorted(set(batch['status'])))})"
        )
    created = pd.to_datetime(batch["created_at"]).min()
    earlier = decisions[
        (pd.to_datetime(decisions["created_at"]) < created)
        & (decisions["action_type"] == "budget_allocation")
        & (decisions["status"] == "executed")
    ].sort_values("created_at")
    rollback_id = "RB-" + _hash(batch_id, sorted(executed["decision_id"]))
    rows, replaces, restored_from, before = [], {}, {}, {}
    stamp = pd.Timestamp(datetime.now(UTC)).tz_localize(None)
    for row in executed.to_dict("records"):
        rid = "R-" + _hash("rollback", row["decision_id"])
        if row["action_type"] == "budget_allocation":
            same = earlier[
                (earlier["channel"] == row["channel"])
                & (earlier["campaign_id"].fillna("") == (row.get("campaign_id") or ""))
            ]
            if len(same):
                prev = same.iloc[-1].to_dict()
                amount, source = float(prev["amount"]), str(prev["batch_id"])
            else:
                prev = None
                last = (_rationale(row).get("scores") or {}).get("last_period_amount")
                if last is None:
                    raise ValueError(
                        f"{row['decision_id']}: no earlier executed budget for {row['channel']} "
                        "and no last-period spend in its rationale; nothing to restore to"
                    )
                amount, source = float(last), "last period spend"
            summary = (
                f"Rollback of {row['decision_id']} ({batch_id}): {row['channel']} back to "
                f"{amount:,.0f} EUR for the period from {str(row['scheduled_for'])[:10]} "
                f"(was {float(row['amount']):,.0f} EUR; restored from {source})."
            )
            extra = {"phasing": _reshaped(prev, row, amount)}
            action_type = "budget_allocation"
        else:
            amount, source = float("nan"), "cancel"
            summary = (
                f"Rollback of {row['decision_id']} ({batch_id}): cancel the send if not yet sent."
            )
            extra = {"applies_to": row["decision_id"]}
            action_type = "cancel"
        rows.append(
            {
                **{k: row.get(k) for k in ("channel", "campaign_id", "audience_id", "asset_id")},
                "decision_id": rid,
                "batch_id": rollback_id,
                "action_type": action_type,
                "scheduled_for": row["scheduled_for"],
                "amount": amount,
                "expected_conversions": float("nan"),
                "expected_revenue": float("nan"),
                "expected_lower": float("nan"),
                "expected_upper": float("nan"),
                "propensity": 1.0,
                "status": "approved",
                "policy_version": row.get("policy_version"),
                "rationale": json.dumps(
                    {
                        "summary": summary,
                        "rolls_back": row["decision_id"],
                        "restored_from": source,
                        **extra,
                    },
                    sort_keys=True,
                ),
                "created_at": stamp,
            }
        )
        replaces[rid] = row["decision_id"]
        restored_from[rid] = source
        before[rid] = float(row["amount"]) if row["amount"] == row["amount"] else float("nan")
    return RollbackPlan(batch_id, rollback_id, pd.DataFrame(rows), replaces, restored_from, before)


def rollback_records(
    plan: RollbackPlan, result: pd.DataFrame, requested_by: str, reason: str
) -> pd.DataFrame:
    """``agent.rollbacks`` rows: what each restore action replaced and what happened to it."""
    res = result.set_index("decision_id")
    now = pd.Timestamp(datetime.now(UTC)).tz_localize(None)
    rows = []
    for a in plan.actions.to_dict("records"):
        r = res.loc[a["decision_id"]]
        rows.append(
            {
                "batch_id": plan.batch_id,
                "rollback_id": plan.rollback_id,
                "decision_id": a["decision_id"],
                "replaces_decision_id": plan.replaces[a["decision_id"]],
                "action_type": a["action_type"],
                "channel": a["channel"],
                "campaign_id": a.get("campaign_id"),
                "amount_before": plan.amount_before[a["decision_id"]],
                "amount_restored": a["amount"],
                "restored_from": plan.restored_from[a["decision_id"]],
                "status": r["status"],
                "delivered": bool(r["delivered"] or r["already_delivered"]),
                "note": r["note"],
                "requested_by": requested_by,
                "reason": reason,
                "rolled_back_at": now,
            }
        )
    frame = pd.DataFrame(rows, columns=ROLLBACK_COLUMNS)
    for col in ("campaign_id", "reason", "note"):
        frame[col] = pd.Series(frame[col].tolist(), dtype="str", index=frame.index)
    return frame
