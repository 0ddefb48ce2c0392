"""Response curves recovered from measured outcomes match the simulator's true curves.

Error measure (stated in the issue's note): for each paid channel, the mean absolute
percentage error of the fitted against the true steady-state daily conversions on 20 spend
levels spread evenly over the 10th-90th percentile of the channel's historical daily spend
(the range the data can speak for). Tolerance 10 % per channel and world; measured 0.8-4 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketing_ops.forecasting import (
    RESPONSE_COLUMNS,
    ResponseCurve,
    curve_summary,
    fit_channel,
    response_frame,
    responses_from_frame,
)
from marketing_ops.simulator.world import PAID_CHANNELS

from .conftest import BOOTSTRAP, SEEDS

CURVE_TOLERANCE = 0.10
MROI_TOLERANCE = 0.35


def spend_grid(kpis: pd.DataFrame, channel: str) -> np.ndarray:
    spend = kpis.loc[kpis["channel"] == channel, "spend"].to_numpy(float)
    return np.linspace(*np.quantile(spend[spend > 0], [0.1, 0.9]), 20)


def curve_error(fitted: ResponseCurve, true: ResponseCurve, grid: np.ndarray) -> float:
    est, real = fitted.steady_state_conversions(grid), true.steady_state_conversions(grid)
    return float(np.mean(np.abs(est - real) / real))


@pytest.mark.parametrize("world_no", range(len(SEEDS)))
def test_recovered_curves_match_the_true_curves(fitted_worlds, world_no) -> None:
    """Every paid channel (search, display, social, email) of each of three seeded worlds:
    steady-state response within 10 % of the truth over the historical spend range; the
    revenue per conversion within 5 %; the marginal ROI at the median spend within 35 %."""
    w = fitted_worlds[world_no]
    assert set(w.responses) == set(PAID_CHANNELS)
    for channel, fr in w.responses.items():
        true = w.truth.curves[channel]
        grid = spend_grid(w.kpis, channel)
        err = curve_error(fr.curve, true, grid)
        assert err < CURVE_TOLERANCE, (w.seed, channel, err)
        assert fr.curve.value_per_conversion == pytest.approx(true.value_per_conversion, rel=0.05)
        median = float(np.median(grid))
        roi = float(fr.curve.marginal_roi(median)) / float(true.marginal_roi(median))
        assert abs(roi - 1) < MROI_TOLERANCE, (w.seed, channel, roi)


def test_wrong_shapes_do_not_fit_as_well(fitted_worlds) -> None:
    """The error measure can fail: a curve with the true decay and shape but half the true
    half-saturation is off by far more than the tolerance."""
    w = fitted_worlds[0]
    true = w.truth.curves["paid_social"]
    wrong = ResponseCurve(
        "paid_social",
        true.decay,
        true.half_saturation / 2,
        true.shape,
        true.max_response,
        true.value_per_conversion,
    )
    assert curve_error(wrong, true, spend_grid(w.kpis, "paid_social")) > 3 * CURVE_TOLERANCE


def test_bootstrap_draws_give_intervals_around_the_point_curve(fitted_worlds) -> None:
    """Each channel carries its draws; the 80 % band of expected conversions and of marginal
    ROI contains the point estimate, and the curves' dispersion is near Poisson (1)."""
    for w in fitted_worlds:
        for channel, fr in w.responses.items():
            assert len(fr.samples) == BOOTSTRAP
            grid = spend_grid(w.kpis, channel)
            point, lo, hi = fr.conversions_interval(grid, np.ones_like(grid), 0.0)
            assert np.all(lo <= point + 1e-9) and np.all(point <= hi + 1e-9)
            assert np.any(hi > lo)
            roi, roi_lo, roi_hi = fr.marginal_roi_interval(float(np.median(grid)))
            assert roi_lo <= roi <= roi_hi
            assert 0.7 < fr.dispersion < 1.5, (channel, fr.dispersion)


def test_marginal_roi_falls_as_spend_rises(fitted_worlds) -> None:
    """Saturation: past the curve's steepest point, every further EUR buys less."""
    for channel, fr in fitted_worlds[0].responses.items():
        c = fr.curve
        start = c.half_saturation * (1 - c.decay)
        roi = c.marginal_roi(np.linspace(start, start * 4, 10))
        assert np.all(np.diff(roi) < 0), channel


def test_curves_survive_the_round_trip_through_their_table(fitted_worlds) -> None:
    """agent.response_curves rows (draw 0 = point) read back into the same curves, draws,
    dispersion and recent spend; the summary has one row per channel."""
    w = fitted_worlds[0]
    frame = response_frame(w.responses, w.as_of, "test-v1")
    assert list(frame.columns) == RESPONSE_COLUMNS
    assert len(frame) == len(w.responses) * (1 + BOOTSTRAP)
    back = responses_from_frame(frame)
    for channel, fr in w.responses.items():
        assert back[channel].curve == fr.curve
        assert back[channel].samples == fr.samples
        assert back[channel].dispersion == pytest.approx(fr.dispersion)
        assert back[channel].current_daily_spend == pytest.approx(fr.current_daily_spend)
    summary = curve_summary(w.responses)
    assert sorted(summary["channel"]) == sorted(w.responses)
    assert (summary["marginal_roi_low"] <= summary["marginal_roi_high"]).all()


def test_a_known_curve_is_recovered_from_noise_free_data() -> None:
    """Without noise and with a flat index the fit returns the generating parameters."""
    rng = np.random.default_rng(5)
    spend = 300 * rng.uniform(0.2, 2.0, 400)
    true = ResponseCurve("paid_search", 0.35, 500.0, 1.4, 40.0, 50.0)
    y = true.conversions(spend)
    fr = fit_channel(y, spend, np.ones(400), 50.0, "paid_search")
    c = fr.curve
    assert (c.decay, c.half_saturation, c.shape, c.max_response) == pytest.approx(
        (0.35, 500.0, 1.4, 40.0), rel=1e-3
    )
    assert fr.fit_quality["r2"] == pytest.approx(1.0, abs=1e-9)
