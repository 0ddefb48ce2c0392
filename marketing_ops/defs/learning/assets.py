"""`learning`: how wrong were the forecasts, now that the actuals are in."""

import dagster as dg

from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.measurement import forecast_error as score_forecasts
from marketing_ops.warehouse import read_table, replace_partition

OUTCOMES = dg.AssetKey(["measurement", "decision_outcomes"])
BASELINES = dg.AssetKey(["forecasts", "baselines"])


@dg.asset(
    key=["learning", "forecast_error"],
    group_name="learning",
    deps=[OUTCOMES, BASELINES],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
)
def forecast_error(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Error of every earlier forecast whose target days now have actuals (MAPE, sMAPE,
    bias, interval coverage per channel and metric): the signal that triggers re-fitting."""
    day = as_of(context)
    with store.warehouse() as con:
        forecasts = read_table(con, "agent.forecasts", date_column="as_of", end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
    if not forecasts.empty:
        forecasts = forecasts[forecasts["metric"] != "seasonal_index"]
    errors = score_forecasts(forecasts, kpis).assign(as_of=day)
    with store.warehouse() as con:
        replace_partition(con, "agent.forecast_error", errors, day)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "forecasts_scored": int(errors["n"].sum()) if len(errors) else 0,
            "errors": dg.MetadataValue.md(errors.round(3).to_markdown(index=False))
            if len(errors)
            else "no forecast has reached its target days yet",
        }
    )


defs = dg.Definitions(assets=[forecast_error])
