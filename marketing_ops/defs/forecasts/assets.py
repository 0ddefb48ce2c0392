"""`forecasts`: Prophet baselines per channel and audience, spend-response curves, and their
backtests against seasonal naive, as of a day. Thin shells: read, call the core, write."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from marketing_ops.defs._shared import (
    STORE_POOL,
    StoreResource,
    as_of,
    daily,
)
from marketing_ops.forecasting import (
    RESPONSE_COLUMNS,
    backtest_baselines,
    backtest_response,
    baseline_model_version,
    curve_summary,
    curves_model_of,
    demand_index,
    fit_baselines,
    fit_response_curves,
    forecast_summary,
    load_forecast_settings,
    markdown_image,
    plot_audience_forecasts,
    plot_backtest,
    plot_forecasts,
    plot_response_curves,
    plot_response_fit,
    response_frame,
    response_model_version,
    responses_from_frame,
    seasonal_index_rows,
    worse_than_naive,
)
from marketing_ops.forecasting.report import write_report_page
from marketing_ops.warehouse import frame_version, read_table, replace_partition

KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
AUDIENCE_KPIS = dg.AssetKey(["marts", "fct_audience_kpis_daily"])
# the agent's geo tests are read out on it (experiments.batch.calibration_experiments)
GEO_KPIS = dg.AssetKey(["marts", "fct_geo_kpis_daily"])
BACKTESTS_KEY = ["forecasts", "backtests"]
NAIVE_CHECK = "beats_seasonal_naive"
RESPONSE_KEY = ["forecasts", "response_curves"]
MMM_CHECK = "mmm_converged"


def _settings(store: StoreResource):
    return load_forecast_settings(store.home().settings / "forecasting.yaml")


def _history(store: StoreResource, day) -> tuple[pd.DataFrame, pd.DataFrame]:
    with store.warehouse() as con:
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        audiences = read_table(
            con, "marts.fct_audience_kpis_daily", date_column="date_day", end=day
        )
    return kpis, audiences


def _report(store: StoreResource, day, page: str, title: str, images, tables, notes=None):
    folder = store.home().reports / "forecasts" / day.isoformat()
    return write_report_page(folder, page, title, images, tables, notes)


def _md_table(frame: pd.DataFrame) -> dg.MetadataValue:
    tidy = frame.copy()
    for col in ("channel", "audience_id"):
        if col in tidy:
            tidy[col] = tidy[col].astype(object).where(tidy[col].notna(), "")
    return dg.MetadataValue.md(tidy.to_markdown(index=False, floatfmt=".3f"))


@dg.asset(
    key=["forecasts", "baselines"],
    group_name="forecasts",
    deps=[KPIS, AUDIENCE_KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"prophet", "duckdb"},
    owners=["team:marketing-ops"],
)
def baselines(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Prophet forecast of conversions and revenue per channel and per audience segment with
    enough history, for the next days (weekly and yearly seasonality, the holidays of the
    configured country, intervals; adstocked spend as a regressor for series whose spend
    moves), plus the demand index (seasonality of spend-free demand) that response curves and
    budget phasing share. Settings: `<data home>/settings/forecasting.yaml`."""
    day = as_of(context)
    settings = _settings(store)
    kpis, audiences = _history(store, day)
    fit = fit_baselines(kpis, day, settings, audiences)
    version = baseline_model_version(settings)
    index_rows = seasonal_index_rows(fit.demand_index, kpis["channel"].unique(), day, version)
    rows = pd.concat([fit.forecast, index_rows], ignore_index=True)
    with store.warehouse() as con:
        replace_partition(con, "agent.forecasts", rows, day)
    images = {"conversions": plot_forecasts(kpis, fit.forecast, "conversions")}
    if "revenue" in settings.metrics:
        images["revenue"] = plot_forecasts(kpis, fit.forecast, "revenue")
    if fit.forecast["audience_id"].notna().any():
        images["audiences"] = plot_audience_forecasts(audiences, fit.forecast, "conversions")
    summary = forecast_summary(fit.forecast)
    paths = _report(
        store,
        day,
        "baselines",
        f"Baselines as of {day}",
        images,
        {"next_days": summary},
        [f"Model {version}; holidays {settings.country}; {settings.horizon_days} days ahead."],
    )
    audience_series = sorted({s.audience_id for s in fit.series if s.audience_id})
    context.log.info(f"{len(fit.series)} series fitted ({len(audience_series)} audiences)")
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "model_version": version,
            "holiday_country": settings.country,
            "series": len(fit.series),
            "audiences_forecast": ", ".join(audience_series) or "none (too little history)",
            "forecast_rows": len(fit.forecast),
            "next_days": _md_table(summary),
            **{
                f"picture_{name}": dg.MetadataValue.md(markdown_image(png, name))
                for name, png in images.items()
            },
            "report": dg.MetadataValue.path(str(paths["page"])),
        },
        data_version=dg.DataVersion(frame_version(rows)),
    )


def _stored_mmm(store: StoreResource, day, settings, version: str):
    """The newest converged fit of this model version less than ``refit_days`` old, re-dated to
    ``day``: (curve rows, summary rows); empty frames when there is none."""
    start, before = day - timedelta(days=settings.mmm.refit_days - 1), day - timedelta(days=1)
    with store.warehouse() as con:
        summary = read_table(
            con, "agent.mmm_channel_summary", date_column="as_of", start=start, end=before
        )
        curves = read_table(
            con, "agent.response_curves", date_column="as_of", start=start, end=before
        )
    if summary.empty or curves.empty:
        return pd.DataFrame(), pd.DataFrame()
    # a reused fit is stored again under each later day: its age counts from ``fitted_on``
    fresh = pd.to_datetime(summary["fitted_on"]).dt.date >= start
    summary = summary[(summary["model_version"] == version) & summary["converged"] & fresh]
    # curve rows name their fit: ``<version>@fit:<fit version>`` (forecasting.mmm.kpis.FIT_TAG)
    curves = curves[curves["model_version"].str.split("@fit:").str[0] == version]
    days = set(summary["as_of"]) & set(curves["as_of"])
    if not days:
        return pd.DataFrame(), pd.DataFrame()
    latest = max(days)
    pick = lambda f: f[f["as_of"] == latest].assign(as_of=day)  # noqa: E731
    return pick(curves), pick(summary)


def _kpi_data_version(context) -> dict:
    """The data version of the KPI partition the fit read, as Dagster recorded it."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(KPIS, asset_partitions=[context.partition_key]), limit=1
    ).records
    mat = records[0].asset_materialization if records else None
    tags = (mat.tags if mat else None) or {}
    return {KPIS.to_user_string(): tags.get("dagster/data_version", "missing")}


def _mmm_curves(context, store: StoreResource, day, settings, kpis):
    """(curve rows, summary rows) of the media mix model: a stored recent fit or a new one."""
    # jax/numpyro load only when the model is in use (every Dagster process imports this module)
    from marketing_ops.experiments.batch import calibrated_kpi_fit
    from marketing_ops.forecasting.mmm.kpis import (
        SUMMARY_COLUMNS,
        curve_rows,
        mmm_model_version,
        summary_frame,
    )

    version = mmm_model_version(settings)
    curves, summary = _stored_mmm(store, day, settings, version)
    if not summary.empty:
        context.log.info(f"MMM fit of {summary['fitted_on'].iloc[0]} reused (refit_days)")
        return curves, summary
    result, written = calibrated_kpi_fit(
        store.home(), kpis, settings, day, _kpi_data_version(context)
    )
    if result is None:  # typed empty frames: they clear the day's rows of existing tables
        return pd.DataFrame(columns=RESPONSE_COLUMNS), pd.DataFrame(columns=SUMMARY_COLUMNS)
    fit, vpc = result.fit, result.value_per_conversion
    context.log.info(f"MMM fitted in {fit.seconds:.0f} s: {fit.diagnostics.as_dict()}")
    if written:
        context.log.info(f"MMM fit {result.version[:16]} recorded on the decision ledger")
    summary = summary_frame(fit, day, version, vpc, result.version)
    rows = curve_rows(fit, vpc, day, version, settings.mmm.curve_draws, result.version)
    return rows, summary


def _mmm_check(model: str, summary: pd.DataFrame) -> dg.AssetCheckResult:
    """Blocking: a media mix model that did not converge never reaches a decision."""
    if model != "mmm" or summary.empty:
        return dg.AssetCheckResult(
            check_name=MMM_CHECK,
            passed=True,
            metadata={"model": model, "fitted": not summary.empty},
        )
    first = summary.iloc[0]
    diag = {k: float(first[k]) for k in ("max_rhat", "min_ess", "divergences", "fit_seconds")}
    return dg.AssetCheckResult(
        check_name=MMM_CHECK,
        passed=bool(summary["converged"].all()),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={**diag, "fitted_on": str(first["fitted_on"])},
    )


def _attributed_curves(kpis, index, settings, day):
    fitted = fit_response_curves(kpis, index, settings)
    return response_frame(fitted, day, response_model_version(settings)), fitted


@dg.asset(
    key=RESPONSE_KEY,
    group_name="forecasts",
    deps=[KPIS, GEO_KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"scipy", "duckdb"},
    owners=["team:marketing-ops"],
    check_specs=[
        dg.AssetCheckSpec(
            MMM_CHECK,
            asset=RESPONSE_KEY,
            blocking=True,
            description="When the curves come from the media mix model (response_model: mmm, "
            "or auto on a long enough history), it converged (R-hat, "
            "effective sample size, divergences); a fit that did not never reaches a decision.",
        )
    ],
)
def response_curves(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Response per paid channel for the forward plan and the optimiser. ``response_model:
    attributed``: adstock + Hill fitted on each channel's measured conversions on top of the
    demand index, bootstrap draws. ``mmm``: the media mix model of the total KPI (posterior
    draws; its channel contributions, ROAS and marginal ROAS go to agent.mmm_channel_summary);
    a fit is reused for ``mmm.refit_days``, and one that did not converge writes no curves.
    ``auto`` (the default): ``mmm`` once the KPI history has ``mmm.min_history_days`` days."""
    day = as_of(context)
    settings = _settings(store)
    kpis, _ = _history(store, day)
    index = demand_index(kpis, day, settings.horizon_days, settings)
    model = curves_model_of(settings, kpis)
    summary_rows = pd.DataFrame()
    if model == "mmm":
        frame, summary_rows = _mmm_curves(context, store, day, settings, kpis)
        fitted = responses_from_frame(frame)
    else:
        frame, fitted = _attributed_curves(kpis, index, settings, day)
    with store.warehouse() as con:
        replace_partition(con, "agent.response_curves", frame, day)
        if model == "mmm":
            replace_partition(con, "agent.mmm_channel_summary", summary_rows, day)
    summary = curve_summary(fitted, settings.interval_width)
    images = {}
    if fitted:
        images["curves"] = plot_response_curves(fitted, settings.interval_width)
        if model != "mmm":
            images["fit"] = plot_response_fit(kpis, fitted, index)
    tables = {"curves": summary}
    if len(summary_rows):
        tables["mmm_channels"] = summary_rows.drop(columns=["as_of", "model_version"])
    paths = _report(store, day, "response_curves", f"Response curves as of {day}", images, tables)
    version = frame["model_version"].iloc[0] if len(frame) else response_model_version(settings)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "model_version": version,
            # the model the curves came from, and the setting that chose it (auto: the history)
            "response_model": f"{model} (response_model: {settings.response_model})",
            "channels": len(fitted),
            "curves": _md_table(summary),
            **(
                {"mmm_channels": _md_table(tables["mmm_channels"])}
                if "mmm_channels" in tables
                else {}
            ),
            **{
                f"picture_{name}": dg.MetadataValue.md(markdown_image(png, name))
                for name, png in images.items()
            },
            "report": dg.MetadataValue.path(str(paths["page"])),
        },
        check_results=[_mmm_check(model, summary_rows)],
        data_version=dg.DataVersion(frame_version(frame)),
    )


def _recent_backtest(store: StoreResource, day, settings, versions: set[str]) -> pd.DataFrame:
    """The latest stored backtest of exactly these model versions within ``every_days``."""
    start = day - timedelta(days=settings.backtest.every_days - 1)
    with store.warehouse() as con:
        prior = read_table(con, "agent.backtests", date_column="as_of", start=start, end=day)
    if prior.empty or "model_version" not in prior:
        return prior.iloc[0:0]
    prior["as_of"] = pd.to_datetime(prior["as_of"]).dt.date
    for when in sorted(prior["as_of"].unique(), reverse=True):
        rows = prior[prior["as_of"] == when]
        if versions <= set(rows["model_version"].dropna()):
            return rows
    return prior.iloc[0:0]


@dg.asset(
    key=BACKTESTS_KEY,
    group_name="forecasts",
    deps=[KPIS, AUDIENCE_KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"prophet", "duckdb"},
    owners=["team:marketing-ops"],
    check_specs=[
        dg.AssetCheckSpec(
            NAIVE_CHECK,
            asset=BACKTESTS_KEY,
            description="Flags every series whose model (Prophet baseline, or the response "
            "model behind the forward plan) has a higher MASE than copying last week.",
        )
    ],
)
def backtests(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Rolling-origin backtests of the Prophet baselines (every series) and of the response
    model behind the forward plan (paid channels), each next to seasonal naive on the same
    held-out days: MAPE, sMAPE, MASE and interval coverage, stored per model version. Run once
    per model version every `backtest.every_days`; in between the stored one is reported."""
    day = as_of(context)
    settings = _settings(store)
    versions = {baseline_model_version(settings), response_model_version(settings)}
    stored = _recent_backtest(store, day, settings, versions)
    if stored.empty:
        kpis, audiences = _history(store, day)
        bt = pd.concat(
            [backtest_baselines(kpis, settings, audiences), backtest_response(kpis, settings)],
            ignore_index=True,
        ).drop_duplicates(subset=["channel", "audience_id", "metric", "model"])
        bt.insert(0, "as_of", day)
        with store.warehouse() as con:
            replace_partition(con, "agent.backtests", bt, day)
        backtest_day = day
    else:
        bt, backtest_day = stored, stored["as_of"].iloc[0]
        context.log.info(f"backtest of {backtest_day} reused (same model versions)")
    flagged = worse_than_naive(bt, settings.backtest.max_mase_ratio_vs_naive)
    means = bt.groupby("model")[["mase", "smape", "coverage"]].mean().reset_index()
    table = bt.drop(columns=["as_of"]).sort_values(["model", "metric", "channel", "audience_id"])
    images = {"mase": plot_backtest(bt)} if len(bt) else {}
    paths = _report(
        store,
        day,
        "backtests",
        f"Backtests as of {day}",
        images,
        {"mean_per_model": means, "per_series": table, "worse_than_naive": flagged},
        [f"Backtest run on {backtest_day}; models {', '.join(sorted(versions))}."],
    )
    check = dg.AssetCheckResult(
        check_name=NAIVE_CHECK,
        passed=bool(flagged.empty),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "flagged": len(flagged),
            "worse_than_naive": _md_table(flagged) if len(flagged) else "none",
            "max_mase_ratio_vs_naive": settings.backtest.max_mase_ratio_vs_naive,
        },
    )
    prophet = bt[bt["model"] == "prophet"]
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "backtest_as_of": str(backtest_day),
            "model_versions": ", ".join(sorted(versions)),
            "mean_mase_prophet": float(prophet["mase"].mean()) if len(prophet) else float("nan"),
            "mean_per_model": _md_table(means),
            "backtest": _md_table(table),
            **{
                f"picture_{name}": dg.MetadataValue.md(markdown_image(png, name))
                for name, png in images.items()
            },
            "report": dg.MetadataValue.path(str(paths["page"])),
        },
        check_results=[check],
        data_version=dg.DataVersion(frame_version(bt)),
    )


defs = dg.Definitions(assets=[baselines, response_curves, backtests])
