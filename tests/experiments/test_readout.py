"""A geo holdout read out, quality-checked and handed to the model's calibration."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from marketing_ops.experiments import (
    ReadoutRules,
    calibration_input,
    experiment_rows,
    geo_readout,
    geo_tail_readout,
)
from marketing_ops.forecasting.mmm import mmm_data, read_experiments
from marketing_ops.simulator.mmm_worlds import true_incremental

from .conftest import TEST_START
from .world import national


def model_data(geo_test, frame=None):
    frame = national(geo_test.observed if frame is None else frame, geo_test.before.spend_columns)
    return mmm_data(frame, "revenue", geo_test.before.spend_columns, "W", ["price", "promo"])


def test_difference_in_differences_recovers_the_holdouts_true_lift(geo_test):
    r = geo_readout(geo_test.observed, geo_test.design, "revenue")
    assert r.problems == ()
    assert abs(r.lift - geo_test.true_lift) < 3 * r.standard_error
    assert r.standard_error < 0.5 * geo_test.true_lift  # a test that says something
    lo, hi = r.interval
    assert lo < r.lift < hi


def test_the_readout_reaches_the_model_as_a_calibration_row(geo_test, tmp_path):
    r = geo_readout(geo_test.observed, geo_test.design, "revenue")
    accepted, verdicts = calibration_input([r], [geo_test.design], model_data(geo_test))
    assert [v.accepted for v in verdicts] == [True], verdicts[0].reason
    e = accepted[0]
    assert (e.channel, e.kind, e.lift) == (geo_test.design.channel, "geo", r.lift)
    # the data hold the lower spend: the high arm adds back what the treated geos would have
    # spent, read from their controls (the design's figure is the recent level's, 34 % over
    # what this window's flights spent there)
    d, frame = geo_test.design, geo_test.before.frame
    held = (frame["date"] >= d.start) & (frame["date"] <= d.end) & frame["geo"].isin(d.treated)
    truth = frame.loc[held, d.channel].sum()
    assert e.spend_delta == r.details["spend_moved"] == pytest.approx(truth, rel=0.1)
    assert abs(e.spend_delta - truth) < abs(d.spend_removed - truth)
    path = tmp_path / "experiments.csv"
    experiment_rows(accepted).to_csv(path, index=False)
    assert read_experiments(path) == accepted  # the docs/contracts.md format, round trip


def test_low_quality_readouts_are_rejected_from_calibration_with_the_reason(geo_test):
    good = geo_readout(geo_test.observed, geo_test.design, "revenue")
    strict = ReadoutRules(max_relative_se=0.01)  # asks for an SE under 1 % of the lift
    noisy = replace(
        geo_readout(geo_test.observed, geo_test.design, "revenue", strict), design="noisy"
    )
    contradicting = replace(good, design="contradicting", lift=good.lift * 25)
    designs = [
        replace(geo_test.design, name="noisy"),
        replace(geo_test.design, name="contradicting", start=geo_test.design.start),
    ]
    _, verdicts = calibration_input([noisy, contradicting], designs, model_data(geo_test))
    assert not verdicts[0].accepted and verdicts[0].reason.startswith("inconclusive: SE")
    assert not verdicts[1].accepted
    assert "disagrees with the prior predictive" in verdicts[1].reason


def test_a_tests_tail_is_read_after_its_end_as_a_calibration_row_of_its_own(geo_test, tmp_path):
    """``testing.tail_weeks``: the same difference in differences over the weeks after the
    test, when both arms spend the plan again, is the carry-over the held-out spend would have
    left: a second row (read from the day after the end) beside the in-test one."""
    design = replace(geo_test.design, readout_end=geo_test.design.end + pd.Timedelta(weeks=4))
    frame = geo_test.after.frame  # the history now runs past the tail
    ch = geo_test.before.channels[geo_test.before.spend_columns.index(design.channel)]
    spend = [
        w.frame[design.channel].to_numpy(float).reshape(6, -1)
        for w in (geo_test.before, geo_test.after)
    ]
    gone = true_incremental(ch, spend[0], "W") - true_incremental(ch, spend[1], "W")
    true_tail = float(gone[:, TEST_START + design.periods :].sum())
    assert true_tail > 0  # the channel's adstock carries the held-out spend past the end

    in_test = geo_readout(frame, design, "revenue")
    tail = geo_tail_readout(frame, design, "revenue")
    # the in-test row does not move for being read later
    assert in_test.lift == geo_readout(geo_test.observed, geo_test.design, "revenue").lift
    assert (tail.read_from, tail.read_until) == (
        design.end + pd.Timedelta(days=1),
        design.readout_end,
    )
    assert tail.details["test_periods"] == 4
    assert abs(tail.lift - true_tail) < 3 * tail.standard_error
    # search's decay is short: its tail is smaller than its noise, and that is the finding,
    # not an inconclusive test (the in-test rule would refuse it)
    assert abs(tail.lift) < tail.standard_error and tail.problems == ()

    accepted, verdicts = calibration_input([in_test, tail], [design], model_data(geo_test, frame))
    assert [v.accepted for v in verdicts] == [True, True], [v.reason for v in verdicts]
    row, tail_row = accepted
    assert tail_row.tail_only and tail_row.same_test(row) and tail_row.name == design.name + "-tail"
    assert (tail_row.read_from, tail_row.read_until) == (tail.read_from, design.readout_end)
    assert tail_row.spend_delta == row.spend_delta > 0  # the test's arms, the same both reads
    path = tmp_path / "experiments.csv"
    experiment_rows(accepted).to_csv(path, index=False)
    assert read_experiments(path) == accepted


def test_spend_covariates_make_the_geo_interval_cover_the_true_lift_at_its_rate():
    """The treated-minus-control difference still moves with every channel's spend (media
    saturates, so it is not proportional to a geo's size). Over 12 weekly worlds' holdouts,
    in-test and tail rows: adjusted for the channels' spend, the 80 % interval covers the
    true lift at about its rate and the error falls; plain, it covers two thirds."""
    from marketing_ops.experiments import geo_holdout
    from marketing_ops.simulator.mmm_worlds import MMMWorldConfig, make_mmm_world, with_spend

    errors = {"plain": [], "adjusted": []}
    for seed in range(12):
        world = make_mmm_world(MMMWorldConfig(seed=seed, freq="W", periods=90, channels=3, geos=6))
        start = pd.Timestamp(sorted(world.frame["date"].unique())[78])
        for ch in world.channels:
            for name, adjust in (("plain", ()), ("adjusted", tuple(world.spend_columns))):
                d = geo_holdout(world.frame, ch.name, "revenue", start, 8, adjust_for=adjust)
                if d.spend_removed <= 0:
                    continue
                old = world.frame[ch.name].to_numpy(float).reshape(6, -1)
                new = old.copy()
                new[[int(g[3:]) for g in d.treated], 78:86] = 0.0
                after = with_spend(world, {ch.name: new})
                gone = true_incremental(ch, old, "W") - true_incremental(ch, new, "W")
                d = replace(d, readout_end=d.end + pd.Timedelta(weeks=4))
                for r, truth in (
                    (geo_readout(after.frame, d, "revenue"), gone[:, 78:86].sum()),
                    (geo_tail_readout(after.frame, d, "revenue"), gone[:, 86:].sum()),
                ):
                    assert bool(r.details["adjusted_for"]) == bool(adjust)
                    errors[name].append((r.lift - truth, r.standard_error))
    plain, adjusted = (np.array(errors[k]) for k in ("plain", "adjusted"))
    covered = lambda e: float(np.mean(np.abs(e[:, 0]) < 1.2816 * e[:, 1]))  # noqa: E731
    rmse = lambda e: float(np.sqrt(np.mean(e[:, 0] ** 2)))  # noqa: E731
    assert len(adjusted) == len(plain) >= 60
    assert 0.7 <= covered(adjusted) <= 0.9, covered(adjusted)
    assert covered(plain) < covered(adjusted)
    assert rmse(adjusted) < 0.85 * rmse(plain)
