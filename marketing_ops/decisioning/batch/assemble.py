"""The decision batch: budget and content choices as rows of the export contract.

Every row says what to do, what we expect, how sure we are, what else was possible and by
how much it would differ, which inputs (with data versions) and which policy version it
rests on, and whether it may go ahead: the status follows the autonomy level (policy files,
capped by the run-time switch) and, in ``approve_above_threshold``, the approval thresholds.

Ids are deterministic given the moment the batch was decided (``created_at``), so a replay
from the ledger yields the same ids; deciding the same day again makes a new batch with new
ids, and the earlier batch stays (:mod:`.history`). A decision id hashes what the action *is*
(day, slot, asset, timing, amount, policy version) and its batch's moment, so an approval
recorded for one action can never carry over to a different one. Why each action has its
status is said in its row (:mod:`.status`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from marketing_ops.decisioning.batch.status import (
    dump_rationale,
    hold_budget_within_total,
    level_and_source,
    proposal_waits,
    status_for,
    status_reason,
)
from marketing_ops.decisioning.budget.optimiser import BudgetPlan, PlanLine
from marketing_ops.decisioning.ledger.autonomy import AutonomyState
from marketing_ops.decisioning.policy import PolicySet
from marketing_ops.spreadsheets import spreadsheet_safe

__all__ = ["DECISION_COLUMNS", "assemble_batch", "export_batch"]

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


def _interval(lo: float, hi: float) -> list[float | None]:
    return [_num(lo), _num(hi)]


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
        waits.extend(_risk_waits(line, thresholds.max_p_marginal_roi_below_1))
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
                "_graph_path": ""
                if line.campaign_id is None
                else f"Campaign({line.campaign_id}) -RUNS_ON-> Channel({line.channel})",
                "_scores": {
                    "expected_conversions": _num(line.expected_conversions),
                    "conversions_interval": _interval(
                        line.conversions_lower, line.conversions_upper
                    ),
                    "expected_revenue": _num(line.expected_revenue),
                    "revenue_interval": _interval(line.revenue_lower, line.revenue_upper),
                    "expected_profit": _num(line.expected_profit),
                    "profit_interval": _interval(line.profit_lower, line.profit_upper),
                    "value_per_conversion": _num(line.value_per_conversion),
                    "marginal_roi": _num(line.marginal_roi),
                    "p_marginal_roi_below_1": _num(line.p_marginal_roi_below_1),
                    "confidence": _num(line.confidence),
                    "last_period_amount": _num(line.last_amount),
                    "money_moved": _num(moved),
                    "plan_expected_revenue": _num(plan.expected_revenue),
                    "plan_expected_profit": _num(plan.expected_profit),
                    "plan_total_spend": _num(plan.total_spend),
                    "plan_total_budget": _num(plan.total_budget),
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
                    **{
                        k: plan.extra[k]
                        for k in ("response_model", "carryover")
                        if plan.extra.get(k)
                    },
                },
                "_summary": _budget_summary(line, start, plan.period_days),
            }
        )
    return rows


def _risk_waits(line: PlanLine, max_p: float | None) -> list[str]:
    """A line that adds money waits when its next euro probably returns less than it costs
    (cutting spend there is the safe direction, so cuts are not held for this)."""
    p = line.p_marginal_roi_below_1
    if max_p is None or not math.isfinite(p) or line.amount <= line.last_amount or p <= max_p:
        return []
    return [
        f"adds {line.amount - line.last_amount:,.0f} EUR where the next euro returns less than "
        f"1 EUR on {p:.0%} of the curve samples (threshold {max_p:.0%}; marginal ROI "
        f"{line.marginal_roi:.2f})"
    ]


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
        f"({change}): expected {line.expected_revenue:,.0f} EUR revenue{interval}, "
        f"{line.expected_profit:,.0f} EUR after the spend; "
        f"the next euro here returns {line.marginal_roi:.2f} EUR{held}."
    )


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return None
    if isinstance(b, float) and math.isnan(b):
        return None
    return _num(a - b)


def _hold_row(c: dict) -> dict:
    return {
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
        "_force_reason": f"nothing to send: {c['reason']}",
        "_waits": [],
        "_graph_path": "",
        "_scores": {},
        "_binding": [c["reason"]],
        "_alternatives": [
            {
                "description": "no alternative qualifies: every candidate failed a rule "
                "(see binding_constraints), so nothing is sent",
                "expected_revenue": 0.0,
                "difference": 0.0,
            }
        ],
        "_extra": {},
        "_summary": f"Hold: nothing sent to {c['audience_id'] or 'any audience'}: {c['reason']}.",
    }


def _content_rows(choices: pd.DataFrame, policies: PolicySet) -> list[dict]:
    thresholds = policies.approvals
    rows = []
    for c in choices.to_dict("records"):
        if c["action"] != "send":
            rows.append(_hold_row(c))
            continue
        confidence = float(c["confidence"])
        waits = []
        if c["consented_size"] > thresholds.audience_size:
            waits.append(
                f"reaches {c['consented_size']:,.0f} contacts (threshold {thresholds.audience_size:,})"
            )
        if confidence < thresholds.min_confidence:
            waits.append(f"confidence {confidence:.2f} below {thresholds.min_confidence:.2f}")
        if c.get("regulated_claim") and policies.compliance.regulated_claims.need_approval:
            waits.append("makes a regulated claim (compliance.yaml: need_approval)")
        exp_rev = _num(c["expected_revenue"])
        alternatives = [
            {
                "description": f"send {a['asset_id']} by {a['channel']} at "
                f"{a['send_hour']:02d}:00 instead (probability {a['propensity']:.0%})",
                "expected_revenue": _num(a["expected_revenue"]),
                "difference": _diff(exp_rev, a["expected_revenue"]),
                "expected_conversions": _num(a["expected_conversions"]),
                "difference_conversions": _diff(
                    c["expected_conversions"], a["expected_conversions"]
                ),
                "expected_profit": _num(a["expected_profit"]),
            }
            for a in c["alternatives"]
        ] + [
            {
                "description": "send nothing",
                "expected_revenue": 0.0,
                "difference": exp_rev,
                "expected_conversions": 0.0,
                "difference_conversions": _num(c["expected_conversions"]),
                "expected_profit": 0.0,
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
            "ctr_interval": _interval(c["ctr_lower"], c["ctr_upper"]),
            "expected_clicks": _num(c["expected_clicks"]),
            "expected_conversions": _num(c["expected_conversions"]),
            "conversions_interval": _interval(c["conversions_lower"], c["conversions_upper"]),
            "expected_revenue": exp_rev,
            "revenue_interval": _interval(c["revenue_lower"], c["revenue_upper"]),
            "cost": _num(c["cost"]),
            "expected_profit": _num(c["expected_profit"]),
            "profit_interval": _interval(c["profit_lower"], c["profit_upper"]),
            "propensity": _num(c["propensity"]),
            "confidence": _num(confidence),
            "consented_size": _num(c["consented_size"]),
            "readiness": _num(c["readiness"])
            if isinstance(c["readiness"], int | float)
            else c["readiness"],
        }
        binding = [
            f"consent, suppression and frequency cap {policies.content.frequency_cap_per_week}"
            "/contact/week (checked in the graph query and again before choosing)",
            *c["rules_applied"],
        ]
        rows.append(
            {
                **common,
                "action_type": "content_selection",
                "scheduled_for": c["scheduled_for"],
                "amount": math.nan,
                "expected_conversions": c["expected_conversions"],
                "expected_revenue": c["expected_revenue"],
                "expected_lower": c["revenue_lower"],
                "expected_upper": c["revenue_upper"],
                "propensity": c["propensity"],
                "_scores": scores,
                "_binding": binding,
                "_alternatives": alternatives,
                "_extra": {"send_at": c["scheduled_for"]},
                "_summary": (
                    f"Send {c['asset_id']} to {c['audience_id']} ({c['consented_size']:,.0f} consented contacts) by "
                    f"{c['channel']} at {c['scheduled_for']}: expected {c['expected_clicks']:,.0f} clicks and "
                    f"{c['expected_conversions']:,.1f} conversions"
                    + (f" worth {exp_rev:,.0f} EUR" if exp_rev is not None else "")
                    + f". {c['reason']}."
                ),
            }
        )
        hour = int(c["send_hour"])
        hour_alts = [
            {
                "description": f"send at {h['hour']:02d}:00 instead",
                "expected_revenue": _num(h["expected_revenue"]),
                "difference": _diff(exp_rev, h["expected_revenue"]),
                "expected_clicks": _num(h["expected_clicks"]),
                "difference_clicks": _diff(c["expected_clicks"], h["expected_clicks"]),
            }
            for h in sorted(c["hour_alternatives"], key=lambda h: -h["expected_clicks"])[:3]
        ] or [
            {
                "description": f"any other hour: without hourly history every hour scores as "
                f"{hour:02d}:00",
                "expected_revenue": exp_rev,
                "difference": 0.0,
            }
        ]
        rows.append(
            {
                **common,
                "action_type": "send_time",
                "scheduled_for": c["scheduled_for"],
                "amount": math.nan,
                "expected_conversions": c["expected_conversions"],
                "expected_revenue": c["expected_revenue"],
                "expected_lower": c["revenue_lower"],
                "expected_upper": c["revenue_upper"],
                "propensity": 1.0,  # the best hour is chosen deterministically
                "_scores": {"send_hour": hour, "expected_clicks": _num(c["expected_clicks"])},
                "_binding": [],
                "_alternatives": hour_alts,
                "_extra": {},
                "_summary": f"Send to {c['audience_id']} at {hour:02d}:00 UTC: {c['send_hour_reason']}.",
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
        _content_rows(content_choices, policies) if content_choices is not None else []
    )
    used = [{"name": s["name"], "data_version": s.get("data_version", "unknown")} for s in signals]
    day = as_of.strftime("%Y%m%d")
    stamp = _stamp(created_at)
    moment = stamp.isoformat()
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
                moment,
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
        + _hash8(as_of, policies.version, used, sorted(r["decision_id"] for r in rows), moment)
    )
    content_status: dict[str, tuple[str, str, list[str]]] = {}
    out = []
    for r in rows:
        level, source = level_and_source(policies, autonomy_state, r["action_type"])
        waits = proposal_waits(level, source, r["_waits"])
        if r.get("_force"):
            status, reason = r["_force"], r["_force_reason"]
        elif r["action_type"] == "send_time":
            # A send time goes with its content: same fate, whatever its own thresholds say.
            status, reason, waits = content_status[r["audience_id"]]
        else:
            status = status_for(level, r["_waits"])
            reason = status_reason(status, level, source, waits)
        if r["action_type"] == "content_selection":
            content_status[r["audience_id"]] = (status, reason, waits)
        rationale = {
            "signals": used,
            "graph_path": r["_graph_path"],
            "scores": r["_scores"],
            "binding_constraints": r["_binding"],
            "alternatives": r["_alternatives"],
            "summary": r["_summary"],
            "autonomy": {
                "level": level,
                "status_reason": reason,
                "waits_for_approval_because": waits,
            },
            **r["_extra"],
        }
        out.append(
            {
                **{k: v for k, v in r.items() if not k.startswith("_")},
                "batch_id": batch_id,
                "status": status,
                "policy_version": policies.version,
                "rationale": dump_rationale(_clean(rationale)),
                "created_at": stamp,
            }
        )
    frame = pd.DataFrame(out, columns=DECISION_COLUMNS)
    for col in _TEXT:
        frame[col] = pd.Series(frame[col].tolist(), dtype="str", index=frame.index)
    for col in _NUMBERS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return hold_budget_within_total(frame)


def _stamp(created_at: datetime | None) -> pd.Timestamp:
    """When the batch was decided, to the microsecond (what the warehouse keeps)."""
    if created_at is None:
        return pd.Timestamp.now("UTC").tz_localize(None).floor("us")
    return pd.Timestamp(created_at).floor("us")


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
        spreadsheet_safe(frame).to_csv(buf, index=False)
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
