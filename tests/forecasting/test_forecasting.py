"""Forecasting: metrics by hand, Prophet beats seasonal naive, response curves recover truth."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketing_ops.forecasting import (
    ResponseCurve,
    backtest_all,
    fit_baselines,
    fit_response_curves,
    mape,
    mase,
    plot_forecast,
    plot_response_curves,
    smape,
)

DAYS = 730


def test_metrics_match_hand_computation():
    """MAPE, sMAPE and MASE equal values worked out by hand (zero actuals skipped in MAPE)."""
    assert mape([100, 200, 0], [110, 180, 5]) == pytest.approx(10.0)
    # 2*10/210 = 0.095238 and 0 -> mean 4.7619 %
    assert smape([100, 200], [110, 200]) == pytest.approx(100 / 21, rel=1e-9)
    assert smape([0], [0]) == 0.0
    history = [1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9]  # lag-7 errors all 2 -> scale 2
    assert mase([10, 12], [11, 14], history) == pytest.approx(0.75)


def _world(seed=3, truth=None):
    """Two years of daily KPIs: weekly + yearly seasonality, spend 0.3x-2x, Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS)
    days = pd.date_range("2024-01-01", periods=DAYS).date
    index = (1 + 0.25 * np.sin(2 * np.pi * t / 7)) * (1 + 0.15 * np.cos(2 * np.pi * t / 365.25))
    spend = 200 * np.exp(rng.normal(0, 0.15, DAYS)) * (1.15 + 0.85 * np.sin(2 * np.pi * t / 120))
    truth = truth or ResponseCurve("paid_search", 0.4, 250.0, 1.6, 80.0, 40.0)
    conv = rng.poisson(truth.conversions(spend, index)).astype(float)
    organic = rng.poisson(60 * index).astype(float)
    frames = [
        pd.DataFrame(
            {
                "date_day": days,
                "channel": "paid_search",
                "spend": spend,
                "conversions": conv,
                "revenue": conv * 40.0,
            }
        ),
        pd.DataFrame(
            {
                "date_day": days,
                "channel": "organic_search",
                "spend": 0.0,
                "conversions": organic,
                "revenue": organic * 40.0,
            }
        ),
    ]
    return pd.concat(frames, ignore_index=True), truth, spend


def test_response_curve_recovers_true_steady_state_response():
    """Measure: mean absolute percentage error of the fitted vs true steady-state daily
    conversions on 20 spend values across the 10th-90th percentile of historical spend.
    Tolerance 15 %; the bootstrap draws bracket the point curve."""
    kpis, truth, spend = _world()
    fitted = fit_response_curves(
        kpis, channels=("paid_search", "organic_search"), bootstrap=4, workers=2
    )
    assert set(fitted) == {"paid_search"}  # no spend -> no curve
    fr = fitted["paid_search"]
    grid = np.linspace(*np.quantile(spend, [0.1, 0.9]), 20)
    est, true = fr.curve.steady_state_conversions(grid), truth.steady_state_conversions(grid)
    err = np.mean(np.abs(est - true) / true)
    assert err < 0.15, err
    assert fr.curve.value_per_conversion == pytest.approx(40.0)
    assert len(fr.samples) == 4 and fr.fit_quality["n_days"] == DAYS
    mean, lo, hi = fr.conversions_interval(grid, np.ones(20), 0.0)
    assert np.all(lo <= hi)


def test_prophet_beats_seasonal_naive_and_runs_are_repeatable():
    """On a strongly seasonal series Prophet's backtest MASE is below 1; forecasts have the
    contract columns, serial and parallel fits give identical numbers, and plots are PNGs."""
    kpis, _, _ = _world()
    bt = backtest_all(kpis, metrics=("conversions",), workers=2)
    row = bt[(bt["channel"] == "organic_search") & (bt["model"] == "prophet")].iloc[0]
    assert row["mase"] < 1.0 and row["n"] == 21
    assert list(bt.columns) == [
        "channel",
        "metric",
        "model",
        "mape",
        "smape",
        "mase",
        "coverage",
        "n",
    ]
    as_of = date(2025, 12, 29)
    a = fit_baselines(kpis, as_of, workers=2)
    b = fit_baselines(kpis, as_of, workers=1)
    assert list(a.forecast.columns) == [
        "as_of",
        "channel",
        "metric",
        "date_day",
        "yhat",
        "yhat_lower",
        "yhat_upper",
        "model_version",
    ]
    assert len(a.forecast) == 2 * 2 * 7 and min(a.forecast["date_day"]) > as_of
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    assert list(a.seasonal_index.columns) == ["channel", "date_day", "index"]
    assert (a.forecast["yhat_lower"] <= a.forecast["yhat_upper"]).all()
    assert plot_forecast(kpis, a.forecast, "paid_search")[:4] == b"\x89PNG"
    fitted = fit_response_curves(kpis, channels=("paid_search",), bootstrap=0, workers=1)
    assert plot_response_curves(fitted)[:4] == b"\x89PNG"
