"""Forecasting: Prophet baselines per channel and audience, the demand index, adstock + Hill
response curves with bootstrap draws, rolling-origin backtests against seasonal naive, the
forward plan (KPI forecast for the next period under any budget split) and their pictures.

The decision layer calls :func:`forward_plan` (or :class:`ForwardPlanner`); settings people
edit are in ``forecasting.yaml`` (:func:`load_forecast_settings`)."""

from marketing_ops.forecasting.backtest import (
    BACKTEST_COLUMNS,
    backtest_baselines,
    backtest_response,
    seasonal_naive,
    worse_than_naive,
)
from marketing_ops.forecasting.baseline import (
    FORECAST_COLUMNS,
    BaselineForecast,
    SeriesKey,
    baseline_model_version,
    demand_index,
    fit_baselines,
    fit_series,
    forecast_summary,
    quiet_logs,
    seasonal_index_rows,
)
from marketing_ops.forecasting.curves import ResponseCurve, adstock, hill
from marketing_ops.forecasting.metrics import coverage, mape, mase, smape
from marketing_ops.forecasting.plan import (
    ForwardPlanner,
    PlanForecast,
    carry_in_adstock,
    forward_plan,
    phase_by_index,
)
from marketing_ops.forecasting.plots import (
    markdown_image,
    plot_audience_forecasts,
    plot_backtest,
    plot_forecast,
    plot_forecasts,
    plot_response_curves,
    plot_response_fit,
)
from marketing_ops.forecasting.response import (
    RESPONSE_COLUMNS,
    FittedResponse,
    curve_summary,
    curves_model_of,
    fit_channel,
    fit_response_curves,
    kpi_history_days,
    response_frame,
    response_model_version,
    responses_from_frame,
)
from marketing_ops.forecasting.settings import (
    ForecastSettings,
    ForecastSettingsError,
    load_forecast_settings,
)

__all__ = [
    "BACKTEST_COLUMNS",
    "FORECAST_COLUMNS",
    "RESPONSE_COLUMNS",
    "BaselineForecast",
    "FittedResponse",
    "ForecastSettings",
    "ForecastSettingsError",
    "ForwardPlanner",
    "PlanForecast",
    "ResponseCurve",
    "SeriesKey",
    "adstock",
    "backtest_baselines",
    "backtest_response",
    "baseline_model_version",
    "carry_in_adstock",
    "coverage",
    "curve_summary",
    "demand_index",
    "fit_baselines",
    "fit_channel",
    "fit_response_curves",
    "fit_series",
    "forecast_summary",
    "forward_plan",
    "hill",
    "load_forecast_settings",
    "mape",
    "markdown_image",
    "mase",
    "phase_by_index",
    "plot_audience_forecasts",
    "plot_backtest",
    "plot_forecast",
    "plot_forecasts",
    "plot_response_curves",
    "plot_response_fit",
    "quiet_logs",
    "response_frame",
    "curves_model_of",
    "kpi_history_days",
    "response_model_version",
    "responses_from_frame",
    "seasonal_index_rows",
    "seasonal_naive",
    "smape",
    "worse_than_naive",
]
