"""The aggregate MMM worlds: a world re-run with other spend has that spend's ground truth."""

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
