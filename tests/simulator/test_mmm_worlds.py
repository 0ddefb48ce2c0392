"""The aggregate MMM worlds: a world re-run with other spend has that spend's ground truth."""

import pandas as pd
import pytest

from marketing_ops.simulator.mmm_worlds import (
    MMMWorldConfig,
    make_mmm_world,
    true_incremental,
    with_spend,
)


def test_a_world_with_other_spend_has_that_spends_roas_and_counterfactuals():
    """A holdout halves search's spend for six weeks: the new world's ROAS and 0.5x / 1.5x
    counterfactuals are those of the spend it now has, not the original world's."""
    world = make_mmm_world(MMMWorldConfig(seed=3, freq="W", periods=80, channels=4))
    search = world.channels[world.spend_columns.index("search")]
    original = world.frame["search"].to_numpy(float).reshape(1, -1)
    spend = original.copy()
    spend[:, 60:66] *= 0.5
    after = with_spend(world, {"search": spend})

    truth = true_incremental(search, spend, "W")
    assert after.roas["search"] == pytest.approx(truth.sum() / spend.sum())
    for m in (0.5, 1.5):
        expected = true_incremental(search, spend * m, "W").sum()
        assert after.counterfactual["search"][m] == pytest.approx(expected)
        assert after.counterfactual["search"][m] < world.counterfactual["search"][m]
    # the KPI moved by the true change; the channels whose spend did not change keep their truth
    lost = true_incremental(search, original, "W").sum() - truth.sum()
    assert world.frame["revenue"].sum() - after.frame["revenue"].sum() == pytest.approx(lost)
    assert lost > 0
    assert after.counterfactual["tv"] == pytest.approx(world.counterfactual["tv"])


def test_a_lift_read_out_past_the_test_holds_its_carry_over():
    """tv carries over (decay 0.55 a week): read out eight weeks past a four-week holdout,
    the true lift is the whole response the held-out spend bought, more than the test's
    weeks alone hold, and the row says until when it was read."""
    from marketing_ops.simulator.mmm_worlds import lift_tests

    world = make_mmm_world(MMMWorldConfig(seed=3, freq="W", periods=80, channels=4))
    tv = world.channels[world.spend_columns.index("tv")]
    spend = world.frame["tv"].to_numpy(float).reshape(1, -1)
    start = next(t for t in range(40, 70) if (spend[0, t : t + 4] > 0).all())
    inside = lift_tests(world, "tv", start, 4, rel_se=0.1)
    whole = lift_tests(world, "tv", start, 4, rel_se=0.1, readout=8)
    low = spend.copy()
    low[:, start : start + 4] = 0.0
    gone = true_incremental(tv, spend, "W") - true_incremental(tv, low, "W")
    assert whole["true_lift"] == pytest.approx(gone[:, start : start + 12].sum())
    assert inside["true_lift"] == pytest.approx(gone[:, start : start + 4].sum())
    assert whole["true_lift"] > 1.2 * inside["true_lift"]
    assert inside["readout_end"] == ""
    ends = pd.Timestamp(whole["readout_end"]) - pd.Timestamp(whole["end"])
    assert ends == pd.Timedelta(weeks=8)
