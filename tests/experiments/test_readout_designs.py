"""Pulse and audience read-outs on series whose effect is known."""

import numpy as np
import pandas as pd
import pytest

from marketing_ops.experiments import (
    audience_holdout,
    audience_readout,
    pulse_readout,
    spend_pulse,
    spend_up_pulse,
)

START = pd.Timestamp("2026-01-05")


def test_a_pulse_reads_the_on_flight_effect_through_a_trend():
    rng = np.random.default_rng(1)
    history = pd.Series(
        1000 + rng.normal(0, 10, 52), index=pd.date_range(end=START, periods=52, freq="7D")
    )
    design = spend_pulse(history, pd.Series(np.full(52, 50.0)), "tv", START, 12, flight_periods=2)
    assert design.schedule[:4] == (False, False, True, True)
    dates = pd.date_range(START, periods=12, freq="7D")
    on = np.array(design.schedule, dtype=float)
    kpi = pd.Series(1000 + 5 * np.arange(12) + 80 * on + rng.normal(0, 10, 12), index=dates)
    r = pulse_readout(kpi, design)
    assert r.problems == ()
    assert abs(r.lift - 80 * 6) < 3 * r.standard_error  # 6 off weeks lose 80 each
    assert r.standard_error < 0.3 * 80 * 6


def test_a_pulse_is_sized_on_the_error_its_read_out_will_have():
    """The design's standard error is the read-out regression's (constant, trend, on flights):
    over many noise draws with no effect, the read-out's lifts spread as the design said, for
    one off and one on flight (where the trend and the flights are nearly collinear: the
    two-sample formula said 2.1x too little) as for four of each."""
    rng = np.random.default_rng(7)
    history = pd.Series(
        500 + rng.normal(0, 10, 200), index=pd.date_range(end=START, periods=200, freq="D")
    )
    for days in (14, 56):
        design = spend_pulse(history, pd.Series(np.full(200, 50.0)), "tv", START, days, 7, "D")
        dates = pd.date_range(START, periods=days, freq="D")
        lifts = [
            pulse_readout(pd.Series(500 + rng.normal(0, 10, days), index=dates), design).lift
            for _ in range(1500)
        ]
        # at the true noise (the design estimates it from the history: 9.0 here)
        priced = design.standard_error * 10 / design.notes["noise_sd"]
        assert np.std(lifts) == pytest.approx(priced, rel=0.06), days
        naive = 10 * np.sqrt(2 / (days / 2)) * (days / 2)
        assert (priced > 1.8 * naive) == (days == 14)


def test_a_spend_up_pulse_reads_what_its_raised_flights_gained():
    """Off flights spend the plan, on flights more: the lift is the gain over the on periods
    (for a channel planned at zero, on flights spend its recent level)."""
    rng = np.random.default_rng(3)
    history = pd.Series(
        1000 + rng.normal(0, 10, 52), index=pd.date_range(end=START, periods=52, freq="7D")
    )
    spend = pd.Series(np.full(52, 50.0))
    design = spend_up_pulse(history, spend, "tv", START, 8, flight_periods=2, planned_multiple=0.0)
    assert design.spend_up and design.spend_added == 50.0 * 4  # 4 on weeks at its usual level
    dates = pd.date_range(START, periods=8, freq="7D")
    on = np.array(design.schedule, dtype=float)
    kpi = pd.Series(1000 + 3 * np.arange(8) + 60 * on + rng.normal(0, 10, 8), index=dates)
    r = pulse_readout(kpi, design)
    assert r.problems == () and r.details["on_periods"] == 4
    assert abs(r.lift - 60 * 4) < 3 * r.standard_error and r.lift > 0


def test_an_audience_holdout_uses_the_always_valid_interval_and_flags_a_ratio_mismatch():
    units = [f"c{i}" for i in range(20000)]
    design = audience_holdout(units, "email", START, 28, outcome_sd=1.0, share=0.2)
    rng = np.random.default_rng(2)
    n_hold = len(design.holdout)
    treated = rng.normal(1.2, 1.0, len(units) - n_hold)
    holdout = rng.normal(1.0, 1.0, n_hold)
    r = audience_readout(treated, holdout, design)
    assert r.problems == ()
    true_lift = 0.2 * len(treated)
    assert abs(r.lift - true_lift) < 3 * r.standard_error
    # the always-valid interval is wider than the fixed-horizon one
    fixed_se = np.sqrt(treated.var(ddof=1) / len(treated) + holdout.var(ddof=1) / n_hold)
    assert r.standard_error > fixed_se * len(treated)
    lost = audience_readout(treated, holdout[: n_hold // 2], design)  # half the holdout's logs lost
    assert any(p.startswith("sample ratio mismatch") for p in lost.problems)
