"""Forecasting: Prophet baselines, backtests, spend-response curves and their pictures."""

from marketing_ops.forecasting.backtest import backtest, backtest_all
from marketing_ops.forecasting.baseline import BaselineForecast, fit_baselines
from marketing_ops.forecasting.curves import ResponseCurve, adstock, hill
from marketing_ops.forecasting.metrics import coverage, mape, mase, smape
from marketing_ops.forecasting.plots import plot_forecast, plot_response_curves
from marketing_ops.forecasting.response import FittedResponse, fit_response_curves

__all__ = [
    "BaselineForecast",
    "FittedResponse",
    "ResponseCurve",
    "adstock",
    "backtest",
    "backtest_all",
    "coverage",
    "fit_baselines",
    "fit_response_curves",
    "hill",
    "mape",
    "mase",
    "plot_forecast",
    "plot_response_curves",
    "smape",
]
