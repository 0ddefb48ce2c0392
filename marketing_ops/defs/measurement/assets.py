"""`measurement`: outcomes joined back to the decisions that caused them."""

import dagster as dg

from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.measurement import decision_outcomes as join_outcomes
from marketing_ops.warehouse import read_table, replace_partition

EXECUTED = dg.AssetKey(["execution", "executed_actions"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
CONVERSIONS = dg.AssetKey(["marts", "fct_conversions"])


@dg.asset(
    key=["measurement", "decision_outcomes"],
    group_name="measurement",
    deps=[EXECUTED, KPIS, CONVERSIONS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
)
def decision_outcomes(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Per executed decision: actual spend, conversions, revenue and ROAS over its scheduled
    days against what was expected, joined by channel and by decision-id tags."""
    day = as_of(context)
    with store.warehouse() as con:
        decisions = read_table(con, "agent.decisions", date_column="as_of", end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        conversions = read_table(con, "marts.fct_conversions", date_column="date_day", end=day)
    outcomes = join_outcomes(decisions, kpis, conversions)
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


defs = dg.Definitions(assets=[decision_outcomes])
