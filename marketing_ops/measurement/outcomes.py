"""Outcomes joined back to the decisions that caused them, and forecast error.

Budget actions are measured on their channel's daily KPIs over the days they were phased
over (actual spend, conversions, revenue and ROAS against what was expected for the days
observed so far). Content actions are measured by their tags: conversions whose
``decision_id`` is the action's id (sessions with ``manual_campaign_id``, deals with
``UTM Content``) and email events whose ``campaign_id`` is the action's id. Budget actions
also get their tagged conversions, since paid clicks carry the decision id too.

Channel KPIs include baseline demand, so a budget action's actual revenue is the channel's
revenue on those days, not the incremental revenue the curve promised: compare the two as
"is the channel where we expected it to be", not as a lift measurement.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "OUTCOME_COLUMNS",
    "FORECAST_ERROR_COLUMNS",
    "agent_email_events",
    "decision_outcomes",
    "forecast_error",
]

OUTCOME_COLUMNS = [
    "decision_id",
    "batch_id",
    "action_type",
    "channel",
    "campaign_id",
    "audience_id",
    "asset_id",
    "first_day",
    "last_day",
    "days_planned",
    "days_observed",
    "complete",
    "amount",
    "expected_conversions",
    "expected_revenue",
    "expected_revenue_to_date",
    "actual_spend",
    "actual_conversions",
    "actual_revenue",
    "actual_roas",
    "expected_roas",
    "revenue_vs_expected",
    "tagged_conversions",
    "tagged_revenue",
    "sends",
    "opens",
    "clicks",
]
FORECAST_ERROR_COLUMNS = ["channel", "metric", "n", "mape", "smape", "bias", "coverage"]
_DEFAULT_PERIOD_DAYS = 7


def _days(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date


def _budget_days(row: dict) -> list[tuple[date, float]]:
    """(day, planned amount) the action covers: its phasing, else the period from scheduled_for."""
    try:
        phasing = json.loads(row.get("rationale") or "{}").get("phasing") or []
    except (TypeError, ValueError):
        phasing = []
    if phasing:
        return [(date.fromisoformat(p["date"]), float(p["amount"])) for p in phasing]
    start = date.fromisoformat(str(row["scheduled_for"])[:10])
    per_day = float(row.get("amount") or 0.0) / _DEFAULT_PERIOD_DAYS
    return [(start + timedelta(days=d), per_day) for d in range(_DEFAULT_PERIOD_DAYS)]


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def agent_email_events(events: pd.DataFrame, decision_ids) -> pd.DataFrame:
    """Email events of the agent's own sends (campaign id = a decision id)."""
    if events.empty:
        return pd.DataFrame(columns=["campaign_id", "event_type"])
    return events.loc[events["campaign_id"].isin(set(decision_ids)), ["campaign_id", "event_type"]]


def decision_outcomes(
    decisions: pd.DataFrame,
    kpis: pd.DataFrame,
    conversions: pd.DataFrame,
    email_events: pd.DataFrame | None = None,
    statuses: tuple[str, ...] = ("executed",),
) -> pd.DataFrame:
    """One row per measured decision (budget and content actions whose first day has data)."""
    if decisions is None or decisions.empty:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    todo = decisions[decisions["status"].isin(statuses)]
    todo = todo[todo["action_type"].isin(["budget_allocation", "content_selection"])]
    kp = (
        kpis.copy()
        if kpis is not None and len(kpis)
        else pd.DataFrame(columns=["date_day", "channel", "spend", "conversions", "revenue"])
    )
    kp["date_day"] = _days(kp["date_day"])
    last_data_day = kp["date_day"].max() if len(kp) else None
    conv = (
        conversions.copy()
        if conversions is not None and len(conversions)
        else pd.DataFrame(columns=["decision_id", "revenue", "date_day"])
    )
    tagged = (
        conv.dropna(subset=["decision_id"]).groupby("decision_id")["revenue"].agg(["count", "sum"])
    )
    events = (
        email_events
        if email_events is not None and len(email_events)
        else pd.DataFrame(columns=["campaign_id", "event_type"])
    )
    event_counts = (
        events.groupby(["campaign_id", "event_type"]).size().unstack(fill_value=0)
        if len(events)
        else pd.DataFrame()
    )

    rows = []
    for row in todo.to_dict("records"):
        did = row["decision_id"]
        n_conv = int(tagged["count"].get(did, 0)) if len(tagged) else 0
        r_conv = float(tagged["sum"].get(did, 0.0)) if len(tagged) else 0.0
        base = {
            k: row.get(k)
            for k in (
                "decision_id",
                "batch_id",
                "action_type",
                "channel",
                "campaign_id",
                "audience_id",
                "asset_id",
            )
        }
        base.update(
            amount=row.get("amount"),
            expected_conversions=row.get("expected_conversions"),
            expected_revenue=row.get("expected_revenue"),
            tagged_conversions=n_conv,
            tagged_revenue=r_conv,
        )
        if row["action_type"] == "budget_allocation":
            plan = _budget_days(row)
            days = [d for d, _ in plan]
            observed = set(
                kp.loc[(kp["channel"] == row["channel"]) & kp["date_day"].isin(days), "date_day"]
            )
            if not observed:
                continue
            seen = kp[(kp["channel"] == row["channel"]) & kp["date_day"].isin(observed)]
            planned_total = sum(a for _, a in plan)
            share = (
                sum(a for d, a in plan if d in observed) / planned_total
                if planned_total
                else len(observed) / len(plan)
            )
            exp_to_date = float(row.get("expected_revenue") or 0.0) * share
            spend, revenue = float(seen["spend"].sum()), float(seen["revenue"].sum())
            rows.append(
                {
                    **base,
                    "first_day": min(days),
                    "last_day": max(days),
                    "days_planned": len(days),
                    "days_observed": len(observed),
                    "complete": len(observed) == len(days),
                    "expected_revenue_to_date": exp_to_date,
                    "actual_spend": spend,
                    "actual_conversions": float(seen["conversions"].sum()),
                    "actual_revenue": revenue,
                    "actual_roas": _ratio(revenue, spend),
                    "expected_roas": _ratio(
                        float(row.get("expected_revenue") or 0.0), float(row.get("amount") or 0.0)
                    ),
                    "revenue_vs_expected": _ratio(revenue, exp_to_date),
                    "sends": 0,
                    "opens": 0,
                    "clicks": 0,
                }
            )
        else:
            send_day = date.fromisoformat(str(row["scheduled_for"])[:10])
            if last_data_day is None or send_day > last_data_day:
                continue
            counts = event_counts.loc[did] if did in event_counts.index else {}
            expected = row.get("expected_revenue")
            rows.append(
                {
                    **base,
                    "first_day": send_day,
                    "last_day": last_data_day,
                    "days_planned": 1,
                    "days_observed": (last_data_day - send_day).days + 1,
                    "complete": True,
                    "expected_revenue_to_date": expected,
                    "actual_spend": 0.0,
                    "actual_conversions": float(n_conv),
                    "actual_revenue": r_conv,
                    "actual_roas": float("nan"),
                    "expected_roas": float("nan"),
                    "revenue_vs_expected": _ratio(r_conv, float(expected))
                    if expected == expected and expected
                    else float("nan"),
                    "sends": int(counts.get("send", 0)),
                    "opens": int(counts.get("open", 0)),
                    "clicks": int(counts.get("click", 0)),
                }
            )
    frame = pd.DataFrame(rows, columns=OUTCOME_COLUMNS)
    for col in (
        "decision_id",
        "batch_id",
        "action_type",
        "channel",
        "campaign_id",
        "audience_id",
        "asset_id",
    ):
        frame[col] = pd.Series(frame[col].tolist(), dtype="str", index=frame.index)
    for col in ("first_day", "last_day"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def forecast_error(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """Per channel and metric: how wrong the forecasts were on days that now have actuals.

    Only true forecasts count (target day after the as-of day). MAPE skips days whose actual
    is zero (undefined there); sMAPE counts a day where both are zero as perfect; bias is the
    mean of forecast minus actual (positive = over-forecast); coverage is the share of
    actuals inside the forecast interval.
    """
    if forecasts is None or forecasts.empty or actuals is None or actuals.empty:
        return pd.DataFrame(columns=FORECAST_ERROR_COLUMNS)
    fc = forecasts.copy()
    fc["date_day"], fc["as_of"] = _days(fc["date_day"]), _days(fc["as_of"])
    fc = fc[fc["date_day"] > fc["as_of"]]
    metrics = [m for m in fc["metric"].unique() if m in actuals.columns]
    act = actuals.copy()
    act["date_day"] = _days(act["date_day"])
    act = act.melt(
        id_vars=["date_day", "channel"], value_vars=metrics, var_name="metric", value_name="actual"
    )
    joined = fc.merge(act, on=["channel", "metric", "date_day"], how="inner")
    rows = []
    for (channel, metric), g in joined.groupby(["channel", "metric"], sort=True):
        a, f = g["actual"].to_numpy(float), g["yhat"].to_numpy(float)
        nonzero = a != 0
        denom = np.abs(a) + np.abs(f)
        smape = np.where(denom > 0, 2 * np.abs(f - a) / np.where(denom > 0, denom, 1), 0.0)
        inside = (a >= g["yhat_lower"].to_numpy(float)) & (a <= g["yhat_upper"].to_numpy(float))
        rows.append(
            {
                "channel": channel,
                "metric": metric,
                "n": len(g),
                "mape": float(np.mean(np.abs(f[nonzero] - a[nonzero]) / np.abs(a[nonzero])))
                if nonzero.any()
                else float("nan"),
                "smape": float(smape.mean()),
                "bias": float(np.mean(f - a)),
                "coverage": float(inside.mean()),
            }
        )
    return pd.DataFrame(rows, columns=FORECAST_ERROR_COLUMNS)
