"""`measurement`: outcomes joined back to the decisions that caused them, and KPIs per
decision, policy, channel and day."""

import dagster as dg
import pandas as pd

from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily
from marketing_ops.measurement import agent_email_events, decision_days, kpi_rollup
from marketing_ops.measurement import decision_outcomes as join_outcomes
from marketing_ops.warehouse import (
    read_agent_email_events,
    read_table,
    read_tagged_conversions,
    replace_partition,
)

EXECUTED = dg.AssetKey(["execution", "executed_actions"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
CONVERSIONS = dg.AssetKey(["marts", "fct_conversions"])
EMAIL_EVENTS = dg.AssetKey(["raw", "email_events"])
OUTCOMES = dg.AssetKey(["measurement", "decision_outcomes"])


@dg.asset(
    key=["measurement", "decision_outcomes"],
    group_name="measurement",
    deps=[EXECUTED, KPIS, CONVERSIONS, EMAIL_EVENTS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
)
def decision_outcomes(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Per executed decision: actual spend, conversions, revenue and ROAS over its scheduled
    days against what was expected, joined by channel and by decision-id tags; sends, opens
    and clicks of the agent's emails (campaign id = decision id)."""
    day = as_of(context)
    with store.warehouse() as con:
        decisions = read_table(con, "agent.decisions", date_column="as_of", end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        conversions = read_tagged_conversions(con, day)
        events = read_agent_email_events(con)
    ids = decisions["decision_id"] if len(decisions) else []
    outcomes = join_outcomes(decisions, kpis, conversions, agent_email_events(events, ids))
    outcomes = outcomes.assign(as_of=day)
    with store.warehouse() as con:
        replace_partition(con, "agent.decision_outcomes", outcomes, day)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "decisions_measured": len(outcomes),
            "outcomes": dg.MetadataValue.md(outcomes.head(20).round(2).to_markdown(index=False))
            if len(outcomes)
            else "no executed decision has outcome days yet",
        }
    )


def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    cols = [c for c in frame.columns if c not in ("tagged_conversions", "deals_lost")]
    return dg.MetadataValue.md(frame[cols].round(2).to_markdown(index=False))


@dg.asset(
    key=["measurement", "decision_kpis"],
    group_name="measurement",
    deps=[OUTCOMES, KPIS, CONVERSIONS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
)
def decision_kpis(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Revenue, spend, CAC, ROAS, win rate and profit of the executed decisions, per decision
    and day (stored), and rolled up per policy version, channel and day (shown here). A
    budget decision owns its channel on the days its plan ran; a send is credited with the
    conversions tagged with its decision id."""
    day = as_of(context)
    with store.warehouse() as con:
        decisions = read_table(con, "agent.decisions", date_column="as_of", end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        conversions = read_tagged_conversions(con, day)
    daily_rows = decision_days(decisions, kpis, conversions)
    with store.warehouse() as con:
        replace_partition(con, "agent.decision_kpis", daily_rows.assign(as_of=day), day)
    meta: dict = {"as_of": str(day), "decision_days": len(daily_rows)}
    if len(daily_rows):
        meta["by_policy"] = _md(kpi_rollup(daily_rows, "policy_version"))
        meta["by_channel"] = _md(kpi_rollup(daily_rows, "channel"))
        by_day = kpi_rollup(daily_rows, "date_day").tail(14)
        meta["by_day_last_14"] = _md(by_day.assign(date_day=by_day["date_day"].dt.date))
    return dg.MaterializeResult(metadata=meta)


defs = dg.Definitions(assets=[decision_outcomes, decision_kpis])
