"""KPIs per decision, policy, channel and day: revenue, CAC, ROAS, win rate, uplift.

First every executed decision is spread over the days it acted on (:func:`decision_days`):

- a budget action owns its channel on each day of its phasing: that day's spend,
  conversions, revenue and deals won/lost come from ``fct_channel_kpis_daily``, and the
  conversions tagged with its decision id (paid clicks carry it) are kept beside them.
  When plans overlap (a new 7-day plan every day), the newest plan covering a day owns it,
  as the newest plan is the one the channel runs, so no channel-day is counted twice;
- a content action is measured by its tags only: conversions whose ``decision_id`` is the
  action's (sessions with ``manual_campaign_id``, deals with ``UTM Content``), on the day
  each one happened; it spends no media money.

Then :func:`kpi_rollup` sums those rows at any grain and derives the ratios from the sums
(a ratio of sums, never a mean of daily ratios, so a day with one euro of spend cannot
dominate). Uplift against a holdout needs randomised units and lives in
:func:`uplift_vs_holdout` (see :mod:`.experiments`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketing_ops.measurement.experiments import compare_arms

__all__ = [
    "DAILY_COLUMNS",
    "KPI_COLUMNS",
    "decision_days",
    "kpi_rollup",
    "uplift_vs_holdout",
]

DAILY_COLUMNS = [
    "date_day",
    "decision_id",
    "batch_id",
    "policy_version",
    "action_type",
    "channel",
    "spend",
    "conversions",
    "revenue",
    "tagged_conversions",
    "tagged_revenue",
    "deals_won",
    "deals_lost",
]
KPI_COLUMNS = [
    "spend",
    "conversions",
    "revenue",
    "tagged_conversions",
    "tagged_revenue",
    "deals_won",
    "deals_lost",
    "decisions",
    "cac",
    "roas",
    "win_rate",
    "profit",
]


def _phasing_days(row: dict) -> list[date]:
    try:
        phasing = json.loads(row.get("rationale") or "{}").get("phasing") or []
    except (TypeError, ValueError):
        phasing = []
    if phasing:
        return [date.fromisoformat(p["date"]) for p in phasing]
    start = date.fromisoformat(str(row["scheduled_for"])[:10])
    return [start + timedelta(days=d) for d in range(7)]


def decision_days(
    decisions: pd.DataFrame,
    kpis: pd.DataFrame,
    conversions: pd.DataFrame,
    statuses: tuple[str, ...] = ("executed", "rolled_back"),
) -> pd.DataFrame:
    """One row per (executed decision, day it acted on and has data for)."""
    if decisions is None or decisions.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    todo = decisions[
        decisions["status"].isin(statuses)
        & decisions["action_type"].isin(["budget_allocation", "content_selection"])
    ]
    kp = kpis.copy() if kpis is not None and len(kpis) else pd.DataFrame(columns=["date_day"])
    kp["date_day"] = pd.to_datetime(kp["date_day"]).dt.date
    for col in ("spend", "conversions", "revenue", "deals_won", "deals_lost"):
        if col not in kp:
            kp[col] = 0.0
    by_channel_day = kp.set_index(["channel", "date_day"]) if len(kp) else None
    last_day = kp["date_day"].max() if len(kp) else None

    conv = conversions.copy() if conversions is not None and len(conversions) else None
    tagged = pd.DataFrame(columns=["decision_id", "date_day", "n", "revenue", "won"])
    if conv is not None and "decision_id" in conv:
        conv = conv.dropna(subset=["decision_id"])
        conv["date_day"] = pd.to_datetime(conv["date_day"]).dt.date
        conv["won"] = (conv.get("conversion_type") == "deal_won").astype(int)
        tagged = (
            conv.groupby(["decision_id", "date_day"])
            .agg(n=("revenue", "size"), revenue=("revenue", "sum"), won=("won", "sum"))
            .reset_index()
        )
    tags = {k: g for k, g in tagged.groupby("decision_id")} if len(tagged) else {}

    owner: dict[tuple[str, date], str] = {}
    budget = todo[todo["action_type"] == "budget_allocation"]
    order = [c for c in ("scheduled_for", "created_at") if c in budget]
    for row in budget.sort_values(order, kind="stable").to_dict("records"):
        for day in _phasing_days(row):
            owner[(row["channel"], day)] = row["decision_id"]

    rows = []
    for row in todo.to_dict("records"):
        did = row["decision_id"]
        base = {
            "decision_id": did,
            "batch_id": row.get("batch_id"),
            "policy_version": row.get("policy_version"),
            "action_type": row["action_type"],
            "channel": row.get("channel"),
        }
        own = tags.get(did)
        own_by_day = own.set_index("date_day") if own is not None else None
        if row["action_type"] == "budget_allocation":
            for day in _phasing_days(row):
                key = (row["channel"], day)
                if owner.get(key) != did:
                    continue
                if by_channel_day is None or key not in by_channel_day.index:
                    continue
                k = by_channel_day.loc[key]
                t = (
                    own_by_day.loc[day]
                    if own_by_day is not None and day in own_by_day.index
                    else None
                )
                rows.append(
                    {
                        **base,
                        "date_day": day,
                        "spend": float(k["spend"]),
                        "conversions": float(k["conversions"]),
                        "revenue": float(k["revenue"]),
                        "tagged_conversions": float(t["n"]) if t is not None else 0.0,
                        "tagged_revenue": float(t["revenue"]) if t is not None else 0.0,
                        "deals_won": float(k["deals_won"]),
                        "deals_lost": float(k["deals_lost"]),
                    }
                )
        else:
            send_day = date.fromisoformat(str(row["scheduled_for"])[:10])
            if last_day is None or send_day > last_day:
                continue
            days = own_by_day.index if own_by_day is not None else []
            for day in sorted({send_day, *[d for d in days if d >= send_day]}):
                t = (
                    own_by_day.loc[day]
                    if own_by_day is not None and day in own_by_day.index
                    else None
                )
                n, rev = (float(t["n"]), float(t["revenue"])) if t is not None else (0.0, 0.0)
                rows.append(
                    {
                        **base,
                        "date_day": day,
                        "spend": 0.0,
                        "conversions": n,
                        "revenue": rev,
                        "tagged_conversions": n,
                        "tagged_revenue": rev,
                        "deals_won": float(t["won"]) if t is not None else 0.0,
                        # lost deals carry no decision tag in the CRM export: unknown, not 0
                        "deals_lost": np.nan,
                    }
                )
    frame = pd.DataFrame(rows, columns=DAILY_COLUMNS)
    frame["date_day"] = pd.to_datetime(frame["date_day"])
    return frame


def kpi_rollup(daily: pd.DataFrame, by: list[str] | str) -> pd.DataFrame:
    """Sum :func:`decision_days` rows by ``by`` and derive CAC, ROAS, win rate and profit.

    CAC = spend / conversions, ROAS = revenue / spend, win rate = won / (won + lost) over
    rows where lost deals are known, profit = revenue - spend. Undefined ratios are NaN.
    """
    keys = [by] if isinstance(by, str) else list(by)
    if daily is None or daily.empty:
        return pd.DataFrame(columns=[*keys, *KPI_COLUMNS])
    d = daily.copy()
    known = d["deals_lost"].notna()
    d["won_known"] = np.where(known, d["deals_won"], 0.0)
    d["lost_known"] = d["deals_lost"].fillna(0.0)
    g = d.groupby(keys, dropna=False).agg(
        spend=("spend", "sum"),
        conversions=("conversions", "sum"),
        revenue=("revenue", "sum"),
        tagged_conversions=("tagged_conversions", "sum"),
        tagged_revenue=("tagged_revenue", "sum"),
        deals_won=("deals_won", "sum"),
        deals_lost=("lost_known", "sum"),
        won_known=("won_known", "sum"),
        decisions=("decision_id", "nunique"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        g["cac"] = np.where(g["conversions"] > 0, g["spend"] / g["conversions"], np.nan)
        g["roas"] = np.where(g["spend"] > 0, g["revenue"] / g["spend"], np.nan)
        seen = g["won_known"] + g["deals_lost"]
        g["win_rate"] = np.where(seen > 0, g["won_known"] / seen, np.nan)
    g["profit"] = g["revenue"] - g["spend"]
    return g.drop(columns=["won_known"]).reset_index()[[*keys, *KPI_COLUMNS]]


def uplift_vs_holdout(
    units: pd.DataFrame, outcome: str = "outcome", holdout: str = "holdout", alpha: float = 0.05
) -> pd.DataFrame:
    """Each arm's mean outcome per unit minus the holdout's, with fixed-horizon and
    always-valid intervals (units: one row per randomised unit with ``arm``)."""
    base = units.loc[units["arm"] == holdout, outcome].to_numpy(float)
    rows = []
    for arm, g in units[units["arm"] != holdout].groupby("arm", sort=True):
        c = compare_arms(g[outcome].to_numpy(float), base, (str(arm), holdout), alpha)
        rows.append(c.__dict__)
    return pd.DataFrame(rows)
