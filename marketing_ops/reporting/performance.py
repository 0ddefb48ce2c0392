"""What the performance report shows, as frames: gathered from the warehouse and ledgers.

Sections: spend, revenue and ROAS per channel over time; forecasts against what happened;
how the agent moved budget (this period against the last, and batch after batch); decisions
waiting for a person; and whether anything drifted: autonomy (kill switch, off-ramp), forecast
error, drift findings, signal freshness and recent alerts.

:func:`collect_report_data` is the only function here that reads storage; the shaping
functions beside it are pure and tested on frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning import (
    LedgerTampered,
    apply_approvals,
    autonomy_state,
    read_approvals,
)
from marketing_ops.governance.alerts import read_alerts
from marketing_ops.warehouse import read_table, table_exists

__all__ = [
    "MIN_SPEND",
    "MIN_SPEND_SHARE",
    "ReportData",
    "allocation_changes",
    "channel_summary",
    "collect_report_data",
    "pending_approvals",
    "ratio_spend_floor",
    "weekly_kpis",
]

HISTORY_WEEKS = 26
# ROAS and CAC are shown for a channel with at least this share of all spend in the period,
# and at least this much (reporting currency); below, one lucky order makes a huge ratio.
MIN_SPEND_SHARE = 0.01
MIN_SPEND = 100.0
# Written by the learning stage when it has a drift monitor (issue 8); read when present.
DRIFT_TABLE = "agent.drift"


@dataclass
class ReportData:
    as_of: date
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    actuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    accuracy: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast_error: pd.DataFrame = field(default_factory=pd.DataFrame)
    allocations: pd.DataFrame = field(default_factory=pd.DataFrame)
    allocation_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    pending: pd.DataFrame = field(default_factory=pd.DataFrame)
    batch_id: str | None = None
    autonomy: str = ""
    scoped_autonomy: pd.DataFrame = field(default_factory=pd.DataFrame)
    drift: pd.DataFrame = field(default_factory=pd.DataFrame)
    freshness: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def weekly_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """Spend, revenue, conversions and ROAS per channel and week (weeks end on as-of's
    weekday, so the last point is a whole week)."""
    if kpis.empty:
        return pd.DataFrame(columns=["week", "channel", "spend", "revenue", "conversions", "roas"])
    frame = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]))
    last = frame["date_day"].max()
    weeks_back = ((last - frame["date_day"]).dt.days // 7).astype(int)
    frame = frame.assign(week=last - pd.to_timedelta(weeks_back * 7, unit="D"))
    days = frame.groupby("week")["date_day"].nunique()
    frame = frame[frame["week"].isin(days[days == 7].index)]  # whole weeks only
    out = (
        frame.groupby(["week", "channel"], as_index=False)[["spend", "revenue", "conversions"]]
        .sum()
        .sort_values(["week", "channel"])
    )
    out["roas"] = (out["revenue"] / out["spend"]).where(out["spend"] > 0)
    return out.reset_index(drop=True)


def ratio_spend_floor(spend: pd.Series) -> float:
    """The least spend a channel needs for its ROAS and CAC to mean something: 14 EUR that
    happened to precede a big order is not a return of 509 to 1."""
    return max(MIN_SPEND, MIN_SPEND_SHARE * float(spend.sum()))


def channel_summary(kpis: pd.DataFrame, as_of: date, days: int = 28) -> pd.DataFrame:
    """The last ``days`` per channel, with the platforms' own conversion claims beside the
    measured ones (platforms over-count). ROAS and CAC stay empty below
    :func:`ratio_spend_floor`."""
    cols = ["channel", "spend", "revenue", "roas", "conversions", "platform_conversions", "cac"]
    if kpis.empty:
        return pd.DataFrame(columns=cols)
    when = pd.to_datetime(kpis["date_day"])
    recent = kpis[when > pd.Timestamp(as_of) - pd.Timedelta(days=days)]
    g = recent.groupby("channel", as_index=False)[
        ["spend", "revenue", "conversions", "platform_conversions"]
    ].sum()
    enough = g["spend"] >= ratio_spend_floor(g["spend"])
    g["roas"] = (g["revenue"] / g["spend"]).where(enough)
    g["cac"] = (g["spend"] / g["conversions"]).where((g["conversions"] > 0) & enough)
    return g[cols].sort_values("revenue", ascending=False).reset_index(drop=True)


def _scores(rationale: object) -> dict:
    try:
        return json.loads(rationale).get("scores", {}) if isinstance(rationale, str) else {}
    except ValueError:
        return {}


def allocation_changes(decisions: pd.DataFrame) -> pd.DataFrame:
    """Budget actions batch by batch: the planned amount against last period's spend."""
    cols = [
        "as_of",
        "batch_id",
        "channel",
        "campaign_id",
        "last_period",
        "planned",
        "change",
        "status",
    ]
    if decisions.empty:
        return pd.DataFrame(columns=cols)
    budget = decisions[decisions["action_type"] == "budget_allocation"].copy()
    if budget.empty:
        return pd.DataFrame(columns=cols)
    budget["last_period"] = [
        _scores(r).get("last_period_amount") for r in budget["rationale"].tolist()
    ]
    budget["last_period"] = pd.to_numeric(budget["last_period"], errors="coerce")
    budget["planned"] = budget["amount"].astype(float)
    budget["change"] = (budget["planned"] / budget["last_period"] - 1).where(
        budget["last_period"] > 0
    )
    budget["as_of"] = pd.to_datetime(budget["as_of"]).dt.date
    budget["campaign_id"] = budget["campaign_id"].where(
        ~budget["campaign_id"].isin(["None", ""]), None
    )
    return budget[cols].sort_values(["as_of", "channel"]).reset_index(drop=True)


def pending_approvals(batch: pd.DataFrame, ledger: list[dict]) -> pd.DataFrame:
    """Actions of the batch still waiting for a person, as the approval ledger stands now."""
    cols = [
        "decision_id",
        "action_type",
        "channel",
        "audience_id",
        "amount",
        "expected_revenue",
        "why",
    ]
    if batch.empty:
        return pd.DataFrame(columns=cols)
    now = apply_approvals(batch, ledger)
    waiting = now[now["status"] == "pending_approval"].copy()
    waiting["why"] = [
        "; ".join((json.loads(r).get("autonomy", {}) or {}).get("waits_for_approval_because", []))
        if isinstance(r, str)
        else ""
        for r in waiting["rationale"].tolist()
    ]
    return waiting[cols].reset_index(drop=True)


def _freshness(con: duckdb.DuckDBPyConnection, as_of: date) -> pd.DataFrame:
    if not table_exists(con, "raw.file_log"):
        return pd.DataFrame(columns=["source", "last_day", "days_behind"])
    frame = con.execute(
        "select source, max(partition_date) as last_day from raw.file_log "
        "where status = 'loaded' group by source order by source"
    ).df()
    frame["last_day"] = pd.to_datetime(frame["last_day"]).dt.date
    frame["days_behind"] = [(as_of - d).days if d is not None else None for d in frame["last_day"]]
    return frame


def _scopes(home: DataHome) -> pd.DataFrame:
    """Scoped autonomy ceilings (the drift off-ramp's), when the home has any."""
    path = home.ledger / "autonomy_scopes.json"
    if not path.exists():
        return pd.DataFrame(columns=["scope", "level", "set_by", "set_at", "reason"])
    doc = json.loads(path.read_text())
    return pd.DataFrame([{"scope": k, **v} for k, v in sorted(doc.items())])


def collect_report_data(con: duckdb.DuckDBPyConnection, home: DataHome, as_of: date) -> ReportData:
    """Everything the report shows as of one day, read from the warehouse and the ledgers."""
    data = ReportData(as_of)
    start = as_of - timedelta(weeks=HISTORY_WEEKS)
    kpis = read_table(
        con, "marts.fct_channel_kpis_daily", date_column="date_day", start=start, end=as_of
    )
    data.weekly = weekly_kpis(kpis)
    data.summary = channel_summary(kpis, as_of)
    data.actuals = (
        kpis[pd.to_datetime(kpis["date_day"]) > pd.Timestamp(as_of - timedelta(60))]
        if len(kpis)
        else kpis
    )
    forecasts = read_table(con, "agent.forecasts", date_column="as_of", end=as_of)
    if len(forecasts):
        forecasts = forecasts[forecasts["metric"].isin(["revenue", "conversions"])]
        forecasts = forecasts[
            pd.to_datetime(forecasts["date_day"]) > pd.Timestamp(as_of - timedelta(60))
        ]
    data.forecasts = forecasts
    backtests = read_table(con, "agent.backtests", date_column="as_of", end=as_of)
    if len(backtests):
        data.accuracy = backtests[backtests["as_of"] == backtests["as_of"].max()].reset_index(
            drop=True
        )
    errors = read_table(con, "agent.forecast_error", date_column="as_of", end=as_of)
    if len(errors):
        data.forecast_error = errors[errors["as_of"] == errors["as_of"].max()].reset_index(
            drop=True
        )
    decisions = read_table(con, "agent.decisions", date_column="as_of", end=as_of)
    data.allocation_history = allocation_changes(decisions)
    if len(decisions):
        latest_day = decisions["as_of"].max()
        batch = decisions[decisions["as_of"] == latest_day]
        data.batch_id = str(batch["batch_id"].iloc[0])
        try:
            ledger = read_approvals(home)
        except LedgerTampered as exc:
            ledger = []
            data.notes.append(f"approval ledger unreadable: {exc}")
        data.pending = pending_approvals(batch, ledger)
        data.allocations = data.allocation_history[
            data.allocation_history["batch_id"] == data.batch_id
        ].reset_index(drop=True)
    data.autonomy = str(autonomy_state(home))
    data.scoped_autonomy = _scopes(home)
    if table_exists(con, DRIFT_TABLE):
        drift = con.execute(
            f"select * from {DRIFT_TABLE} where as_of = (select max(as_of) from {DRIFT_TABLE} "
            "where as_of <= ?)",  # a fixed table name
            [as_of],
        ).df()
        data.drift = drift
    data.freshness = _freshness(con, as_of)
    alerts = read_alerts(home)[-10:]
    data.alerts = pd.DataFrame(alerts, columns=["at", "kind", "summary", "job", "run_id"])
    return data
