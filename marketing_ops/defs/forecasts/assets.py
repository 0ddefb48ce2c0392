"""`forecasts`: Prophet baselines with backtests, and spend-response curves, as of a day."""

import dagster as dg
import pandas as pd

from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.forecasting import (
    backtest_all,
    fit_baselines,
    fit_response_curves,
    plot_forecast,
    plot_response_curves,
)
from marketing_ops.warehouse import frame_version, read_table, replace_partition

KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
HORIZON_DAYS = 7
WORKERS = 2


def _kpis(store: StoreResource, day) -> pd.DataFrame:
    with store.warehouse() as con:
        return read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)


@dg.asset(
    key=["forecasts", "baselines"],
    group_name="forecasts",
    deps=[KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"prophet", "duckdb"},
    owners=["team:marketing-ops"],
)
def baselines(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Prophet forecast per channel of conversions and revenue for the next 7 days (weekly and
    yearly seasonality, holidays, adstocked spend as a regressor), with a rolling-origin
    backtest against seasonal naive and the seasonality index used to phase spend."""
    day = as_of(context)
    kpis = _kpis(store, day)
    forecast = fit_baselines(kpis, as_of=day, horizon=HORIZON_DAYS, workers=WORKERS)
    backtests = backtest_all(kpis, metrics=("conversions",), workers=WORKERS)
    backtests.insert(0, "as_of", day)
    index = forecast.seasonal_index.rename(columns={"index": "yhat"}).assign(
        as_of=day,
        metric="seasonal_index",
        yhat_lower=None,
        yhat_upper=None,
        model_version=forecast.forecast["model_version"].iloc[0],
    )
    rows = pd.concat([forecast.forecast, index[forecast.forecast.columns]], ignore_index=True)
    with store.warehouse() as con:
        replace_partition(con, "agent.forecasts", rows, day)
        replace_partition(con, "agent.backtests", backtests, day)
    home = store.home()
    pictures = {}
    for channel in ("paid_search", "paid_social"):
        path = home.reports / f"forecast_{channel}.png"
        path.write_bytes(plot_forecast(kpis, forecast.forecast, channel))
        pictures[f"picture_{channel}"] = dg.MetadataValue.path(str(path))
    prophet_rows = backtests[backtests["model"] == "prophet"]
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "forecast_rows": len(forecast.forecast),
            "mean_mase_vs_seasonal_naive": float(prophet_rows["mase"].mean()),
            "backtest": dg.MetadataValue.md(backtests.round(3).to_markdown(index=False)),
            **pictures,
        },
        data_version=dg.DataVersion(frame_version(rows)),
    )


@dg.asset(
    key=["forecasts", "response_curves"],
    group_name="forecasts",
    deps=[KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"scipy", "duckdb"},
    owners=["team:marketing-ops"],
)
def response_curves(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Adstock + Hill response per paid channel fitted on measured (not platform-reported)
    conversions, with bootstrap draws for intervals."""
    day = as_of(context)
    kpis = _kpis(store, day)
    fitted = fit_response_curves(kpis, workers=WORKERS, seed=0)
    rows = []
    for channel, fr in fitted.items():
        for draw, curve in enumerate([fr.curve, *fr.samples]):
            rows.append(
                {
                    "as_of": day,
                    "channel": channel,
                    "draw": draw,
                    **curve.to_dict(),
                    "r2": fr.fit_quality.get("r2") if isinstance(fr.fit_quality, dict) else None,
                }
            )
    frame = pd.DataFrame(rows)
    with store.warehouse() as con:
        replace_partition(con, "agent.response_curves", frame, day)
    path = store.home().reports / "response_curves.png"
    path.write_bytes(plot_response_curves(fitted))
    point = frame[frame["draw"] == 0].drop(columns=["as_of", "draw"])
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "curves": dg.MetadataValue.md(point.round(4).to_markdown(index=False)),
            "picture": dg.MetadataValue.path(str(path)),
        },
        data_version=dg.DataVersion(frame_version(frame)),
    )


defs = dg.Definitions(assets=[baselines, response_curves])
