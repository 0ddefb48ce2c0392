"""The MMM's posterior as decision-layer response curves: same numbers, same table format.

One short NUTS fit of a small daily world (its accuracy is tests/forecasting/test_mmm.py's
business): every posterior draw's ResponseCurve must reproduce the model's own response."""

from __future__ import annotations

import numpy as np
import pytest

from marketing_ops.forecasting.curves import ResponseCurve
from marketing_ops.forecasting.mmm import SamplerSettings, contribution_draws, fit_mmm, mmm_data
from marketing_ops.forecasting.mmm.curves import curve_draws, fitted_responses, mmm_response_frame
from marketing_ops.forecasting.response import RESPONSE_COLUMNS, responses_from_frame
from marketing_ops.simulator.mmm_worlds import MMMWorldConfig, make_mmm_world

N = 12


@pytest.fixture(scope="module")
def fit():
    world = make_mmm_world(MMMWorldConfig(seed=5, freq="D", periods=120, channels=2))
    data = mmm_data(world.frame, "revenue", world.spend_columns, "D", controls=["price"])
    return fit_mmm(data, sampler=SamplerSettings(warmup=40, draws=40, chains=1))


def test_curves_reproduce_the_models_response_on_a_steady_path(fit):
    """Constant spend per channel: after the carry-over window both forms agree per draw."""
    level = fit.data.spend[0].mean(axis=0)  # (C,)
    steady = np.broadcast_to(level, fit.data.spend.shape).copy()
    mmm = contribution_draws(fit, steady, n_draws=N)[:, 0]  # (S, T, C), observed multipliers
    params = curve_draws(fit, N)
    tail = slice(-5, None)  # the last segment: its multiplier is the current effect
    for i, channel in enumerate(fit.data.channels):
        for j in range(N):
            curve = ResponseCurve(channel, *(float(params[k][j, i]) for k in params), 1.0)
            ours = curve.conversions(steady[0, :, i])[tail]
            np.testing.assert_allclose(ours, mmm[j, tail, i], rtol=0.02)


def test_rows_are_agent_response_curves_and_read_back(fit):
    frame = mmm_response_frame(fit, "2024-06-28", "mmm-test", n_draws=N)
    assert list(frame.columns) == RESPONSE_COLUMNS
    assert sorted(frame.draw.unique()) == list(range(N + 1))
    assert set(frame.channel) == set(fit.data.channels)
    back = responses_from_frame(frame)
    ours = fitted_responses(fit, n_draws=N)
    for channel, fr in back.items():
        assert fr.curve == ours[channel].curve and len(fr.samples) == N
        assert fr.current_daily_spend > 0 and fr.dispersion > 0
        assert fr.curve.marginal_roi(fr.current_daily_spend) > 0


def test_weekly_fit_is_refused(fit):
    from dataclasses import replace

    weekly = replace(fit, data=replace(fit.data, freq="W"))
    with pytest.raises(ValueError, match="national daily fit"):
        curve_draws(weekly, N)
