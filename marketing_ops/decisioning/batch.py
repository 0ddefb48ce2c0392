"""The decision batch: budget and content choices as rows of the export contract.

Every row says what to do, what we expect, how sure we are, what else was possible and by
how much it would differ, which inputs (with data versions) and which policy version it
rests on, and whether it may go ahead: the status follows the autonomy level (policy files,
capped by the run-time switch) and, in ``approve_above_threshold``, the approval thresholds.

Ids are deterministic so a re-run of the same day with the same inputs yields the same ids,
and the sandbox outbox (keyed by decision id) never sends an action twice. A decision id
hashes what the action *is* (day, slot, asset, timing, amount, policy version), so an
approval recorded for one action can never carry over to a different one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from marketing_ops.decisioning.approvals import AutonomyState
from marketing_ops.decisioning.optimiser import BudgetPlan, PlanLine
from marketing_ops.decisioning.policy import PolicySet, stricter

__all__ = ["DECISION_COLUMNS", "assemble_batch", "export_batch", "status_for"]

DECISION_COLUMNS = [
    "decision_id",
    "batch_id",
    "action_type",
    "channel",
    "campaign_id",
    "audience_id",
    "asset_id",
    "scheduled_for",
    "amount",
    "expected_conversions",
    "expected_revenue",
    "expected_lower",
    "expected_upper",
    "propensity",
    "status",
    "policy_version",
    "rationale",
    "created_at",
]
_TEXT = [
    "decision_id",
    "batch_id",
    "action_type",
    "channel",
    "campaign_id",
    "audience_id",
    "asset_id",
    "scheduled_for",
    "status",
    "policy_version",
    "rationale",
]
_NUMBERS = [
    "amount",
    "expected_conversions",
    "expected_revenue",
    "expected_lower",
    "expected_upper",
    "propensity",
]


def _hash8(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _num(v: object) -> float | None:
    """JSON-safe number: NaN and None become null."""
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else round(f, 4)


def status_for(level: str, reasons_to_wait: list[str]) -> str:
    """The status an action gets at an autonomy level, given why it might need a person."""
    if level == "off":
        return "blocked"
    if level == "recommend_only":
        return "proposed"
    if level == "approve_above_threshold":
        return "pending_approval" if reasons_to_wait else "approved"
    return "approved"


def _level(policies: PolicySet, state: AutonomyState, action_type: str) -> str:
    level = policies.autonomy.level_for(action_type)
    return stricter(level, state.level) if state.level is not None else level


def _budget_rows(as_of: date, plan: BudgetPlan, policies: PolicySet) -> list[dict]:
    start = as_of + timedelta(days=1)
    thresholds = policies.approvals
    rows = []
    for line in plan.lines:
        moved = abs(line.amount - line.last_amount)
        waits = []
        if moved > thresholds.money_moved_eur:
            waits.append(
                f"moves {moved:,.0f} EUR vs last period (threshold {thresholds.money_moved_eur:,.0f})"
            )
        if line.confidence < thresholds.min_confidence:
            waits.append(f"confidence {line.confidence:.2f} below {thresholds.min_confidence:.2f}")
        alternatives = [
            {
                "description": a.description,
                "expected_revenue": _num(a.expected_revenue),
                "difference": _num(a.difference),
                "feasible": a.feasible,
            }
            for a in line.alternatives
        ] + [
            {
                "description": f"whole plan: {a.description}",
                "expected_revenue": _num(a.expected_revenue),
                "difference": _num(a.difference),
                "feasible": a.feasible,
                "violations": list(a.violations),
            }
            for a in plan.alternatives
        ]
        rows.append(
            {
                "action_type": "budget_allocation",
                "channel": line.channel,
                "campaign_id": line.campaign_id,
                "audience_id": None,
                "asset_id": None,
                "scheduled_for": start.isoformat(),
                "amount": line.amount,
                "expected_conversions": line.expected_conversions,
                "expected_revenue": line.expected_revenue,
                "expected_lower": line.revenue_lower,
                "expected_upper": line.revenue_upper,
                "propensity": 1.0,  # the optimiser is deterministic: this plan, with certainty
                "_waits": waits,
                "_graph_path": "",
                "_scores": {
                    "marginal_roi": _num(line.marginal_roi),
                    "confidence": _num(line.confidence),
                    "last_period_amount": _num(line.last_amount),
                    "money_moved": _num(moved),
                    "plan_expected_revenue": _num(plan.expected_revenue),
                    "plan_total_spend": _num(plan.total_spend),
                    "objective": plan.objective,
                },
                "_binding": list(line.binding)
                + [b for b in plan.binding_constraints if b.startswith(("total", "target"))],
                "_alternatives": alternatives,
                "_extra": {
                    "phasing": [
                        {"date": (start + timedelta(days=d)).isoformat(), "amount": round(a, 2)}
                        for d, a in enumerate(line.daily)
                    ],
                    "notes": list(plan.notes),
                },
                "_summary": _budget_summary(line, start, plan.period_days),
            }
        )
    return rows


def _budget_summary(line: PlanLine, start: date, days: int) -> str:
    what = (
        line.channel
        if line.campaign_id is None
        else f"campaign {line.campaign_id} ({line.channel})"
    )
    change = (
        f"{(line.amount / line.last_amount - 1):+.0%} vs {line.last_amount:,.0f} EUR last period"
        if line.last_amount > 0
        else "nothing spent last period"
    )
    interval = (
        f" (90% interval {line.revenue_lower:,.0f}-{line.revenue_upper:,.0f})"
        if math.isfinite(line.revenue_lower)
        else ""
    )
    held = f"; held by: {'; '.join(line.binding)}" if line.binding else ""
    return (
        f"Spend {line.amount:,.0f} EUR on {what} over the {days} days from {start.isoformat()} "
        f"({change}): expected {line.expected_revenue:,.0f} EUR revenue{interval}; "
        f"the next euro here returns {line.marginal_roi:.2f} EUR{held}."
    )


def _revenue(value: float | None, conversions: float) -> float | None:
    """Revenue of some conversions, when the channel's value per conversion is known."""
    return None if value is None else conversions * value


def _content_rows(
    choices: pd.DataFrame, plan: BudgetPlan | None, policies: PolicySet
) -> list[dict]:
    thresholds = policies.approvals
    values = {line.channel: line.value_per_conversion for line in plan.lines} if plan else {}
    rows = []
    for c in choices.to_dict("records"):
        if c["action"] != "send":
            rows.append(
                {
                    "action_type": "content_selection",
                    "channel": c["channel"],
                    "campaign_id": None,
                    "audience_id": c["audience_id"],
                    "asset_id": None,
                    "scheduled_for": None,
                    "amount": math.nan,
                    "expected_conversions": 0.0,
                    "expected_revenue": 0.0,
                    "expected_lower": 0.0,
                    "expected_upper": 0.0,
                    "propensity": 1.0,
                    "_force": "blocked",
                    "_waits": [],
                    "_graph_path": "",
                    "_scores": {},
                    "_binding": [c["reason"]],
                    "_alternatives": [
                        {
                            "description": "no alternative qualifies",
                            "expected_revenue": 0.0,
                            "difference": 0.0,
                        }
                    ],
                    "_extra": {},
                    "_summary": f"Hold: nothing sent to {c['audience_id'] or 'any audience'}: {c['reason']}.",
                }
            )
            continue
        value = values.get(c["channel"])
        confidence = (
            0.0
            if c["expected_ctr"] <= 0
            else max(0.0, 1.0 - (c["ctr_upper"] - c["ctr_lower"]) / c["expected_ctr"])
        )
        waits = []
        if c["consented_size"] > thresholds.audience_size:
            waits.append(
                f"reaches {c['consented_size']:,.0f} contacts (threshold {thresholds.audience_size:,})"
            )
        if confidence < thresholds.min_confidence:
            waits.append(f"confidence {confidence:.2f} below {thresholds.min_confidence:.2f}")
        exp_rev = _revenue(value, c["expected_conversions"])
        alternatives = [
            {
                "description": f"send {a['asset_id']} instead (probability {a['propensity']:.0%})",
                "expected_revenue": _num(_revenue(value, a["expected_conversions"])),
                "difference": _num(
                    None if value is None else exp_rev - _revenue(value, a["expected_conversions"])
                ),
                "expected_conversions": _num(a["expected_conversions"]),
                "difference_conversions": _num(
                    c["expected_conversions"] - a["expected_conversions"]
                ),
            }
            for a in c["alternatives"]
        ] or [
            {
                "description": "send nothing",
                "expected_revenue": 0.0,
                "difference": _num(exp_rev),
                "expected_conversions": 0.0,
                "difference_conversions": _num(c["expected_conversions"]),
            }
        ]
        common = {
            "channel": c["channel"],
            "campaign_id": None,
            "audience_id": c["audience_id"],
            "asset_id": c["asset_id"],
            "_waits": waits,
            "_graph_path": c["graph_path"],
        }
        scores = {
            "expected_ctr": _num(c["expected_ctr"]),
            "ctr_interval": [_num(c["ctr_lower"]), _num(c["ctr_upper"])],
            "propensity": _num(c["propensity"]),
            "confidence": _num(confidence),
            "consented_size": _num(c["consented_size"]),
            "readiness": _num(c["readiness"])
            if isinstance(c["readiness"], int | float)
            else c["readiness"],
            "expected_clicks": _num(c["expected_clicks"]),
        }
        rows.append(
            {
                **common,
                "action_type": "content_selection",
                "scheduled_for": c["scheduled_for"],
                "amount": math.nan,
                "expected_conversions": c["expected_conversions"],
                "expected_revenue": math.nan if exp_rev is None else exp_rev,
                "expected_lower": math.nan if value is None else c["conversions_lower"] * value,
                "expected_upper": math.nan if value is None else c["conversions_upper"] * value,
                "propensity": c["propensity"],
                "_scores": scores,
                "_binding": [
                    f"frequency cap {policies.content.frequency_cap_per_week}/contact/week and consent (candidate query)"
                ],
                "_alternatives": alternatives,
                "_extra": {"send_at": c["scheduled_for"]},
                "_summary": (
                    f"Send {c['asset_id']} to {c['audience_id']} ({c['consented_size']:,.0f} consented contacts) by "
                    f"{c['channel']} at {c['scheduled_for']}: expected {c['expected_clicks']:,.0f} clicks and "
                    f"{c['expected_conversions']:,.1f} conversions. {c['reason']}."
                ),
            }
        )
        rows.append(
            {
                **common,
                "action_type": "send_time",
                "scheduled_for": c["scheduled_for"],
                "amount": math.nan,
                "expected_conversions": c["expected_conversions"],
                "expected_revenue": math.nan if exp_rev is None else exp_rev,
                "expected_lower": math.nan,
                "expected_upper": math.nan,
                "propensity": 1.0,  # the best hour is chosen deterministically
                "_scores": {"send_hour": int(c["send_hour"])},
                "_binding": [],
                "_alternatives": [
                    {
                        "description": f"send at the default {policies.content.default_send_hour:02d}:00 instead",
                        "expected_revenue": None,
                        "difference": None,
                        "note": c["send_hour_reason"],
                    }
                ],
                "_extra": {},
                "_summary": f"Send to {c['audience_id']} at {int(c['send_hour']):02d}:00 UTC: {c['send_hour_reason']}.",
            }
        )
    return rows


def assemble_batch(
    as_of: date,
    budget_plan: BudgetPlan | None,
    content_choices: pd.DataFrame | None,
    policies: PolicySet,
    signals: list[dict],
    autonomy_state: AutonomyState,
    created_at: datetime | None = None,
) -> pd.DataFrame:
    """All of a day's actions in the export contract's columns, with ids, rationale and status."""
    rows = (_budget_rows(as_of, budget_plan, policies) if budget_plan else []) + (
        _content_rows(content_choices, budget_plan, policies) if content_choices is not None else []
    )
    used = [{"name": s["name"], "data_version": s.get("data_version", "unknown")} for s in signals]
    day = as_of.strftime("%Y%m%d")
    for r in rows:
        amount = (
            None if r["amount"] is None or math.isnan(r["amount"]) else round(float(r["amount"]), 2)
        )
        r["decision_id"] = (
            "D-"
            + day
            + "-"
            + _hash8(
                as_of,
                r["action_type"],
                r["channel"],
                r["campaign_id"],
                r["audience_id"],
                r["asset_id"],
                r["scheduled_for"],
                amount,
                policies.version,
            )
        )
    # A send time belongs to its content action: point it there so a connector can pair them.
    content_ids = {
        r["audience_id"]: r["decision_id"] for r in rows if r["action_type"] == "content_selection"
    }
    for r in rows:
        if r["action_type"] == "send_time":
            r["_extra"] = {**r["_extra"], "applies_to": content_ids.get(r["audience_id"])}
    batch_id = (
        "B-"
        + day
        + "-"
        + _hash8(as_of, policies.version, used, sorted(r["decision_id"] for r in rows))
    )
    content_status: dict[str, str] = {}
    stamp = pd.Timestamp(created_at) if created_at else pd.Timestamp.now("UTC").tz_localize(None)
    out = []
    for r in rows:
        level = _level(policies, autonomy_state, r["action_type"])
        if r.get("_force"):
            status = r["_force"]
        elif r["action_type"] == "send_time":
            # A send time goes with its content: same fate, whatever its own thresholds say.
            status = content_status[r["audience_id"]]
        else:
            status = status_for(level, r["_waits"])
        if r["action_type"] == "content_selection":
            content_status[r["audience_id"]] = status
        rationale = {
            "signals": used,
            "graph_path": r["_graph_path"],
            "scores": r["_scores"],
            "binding_constraints": r["_binding"],
            "alternatives": r["_alternatives"],
            "summary": r["_summary"],
            "autonomy": {"level": level, "waits_for_approval_because": r["_waits"]},
            **r["_extra"],
        }
        out.append(
            {
                **{k: v for k, v in r.items() if not k.startswith("_")},
                "batch_id": batch_id,
                "status": status,
                "policy_version": policies.version,
                "rationale": json.dumps(
                    _clean(rationale), sort_keys=True, default=_json_default, allow_nan=False
                ),
                "created_at": stamp,
            }
        )
    frame = pd.DataFrame(out, columns=DECISION_COLUMNS)
    for col in _TEXT:
        frame[col] = pd.Series(frame[col].tolist(), dtype="str", index=frame.index)
    for col in _NUMBERS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


def _clean(v: object) -> object:
    """NaN is not JSON: make it null, all the way down."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _json_default(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def export_batch(df: pd.DataFrame, fmt: str) -> str:
    """The batch as JSON (rationale as an object) or CSV (rationale as JSON text)."""
    frame = df[DECISION_COLUMNS].copy()
    frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        return buf.getvalue()
    if fmt == "json":
        records = []
        for rec in frame.to_dict("records"):
            clean = {
                k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()
            }
            clean["rationale"] = (
                json.loads(rec["rationale"]) if isinstance(rec["rationale"], str) else None
            )
            records.append(clean)
        return json.dumps(records, indent=2, default=_json_default) + "\n"
    raise ValueError(f"export format: expected json or csv, got {fmt!r}")
