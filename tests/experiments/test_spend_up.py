"""Spend-up tests: sized at the plan's level, read out on a simulated geo world where the
treated geos spent double, and handed to calibration as the share of the observed spend
the test added."""

import pandas as pd
import pytest

from marketing_ops.experiments import geo_readout, geo_spend_up, to_experiment
from marketing_ops.forecasting.mmm import mmm_data

from .world import national


def test_a_geo_spend_up_reads_the_added_spends_true_lift(spend_up_test):
    r = geo_readout(spend_up_test.observed, spend_up_test.design, "revenue")
    assert r.problems == ()
    assert r.lift > 0  # the treated geos gained
    lo, hi = r.interval
    assert lo < spend_up_test.true_lift < hi
    assert r.standard_error < spend_up_test.true_lift  # a test that says something


def test_the_calibration_row_removes_the_share_the_test_added(spend_up_test):
    """The data hold the higher spend: the low arm is the observed spend less what was added."""
    d, channels = spend_up_test.design, spend_up_test.before.spend_columns
    frame = national(spend_up_test.observed, channels)
    data = mmm_data(frame, "revenue", channels, "W", ["price", "promo"])
    r = geo_readout(spend_up_test.observed, d, "revenue")
    e = to_experiment(r, d, data.geos, data)
    window = (frame["date"] >= d.start) & (frame["date"] <= d.end)
    observed = frame.loc[window, d.channel].sum()
    assert e.spend_delta == 0 and e.holdout_share == pytest.approx(d.spend_added / observed)
    assert 0 < e.holdout_share < 1 and (e.kind, e.lift) == ("geo", r.lift)
    with pytest.raises(ValueError, match="needs the data"):
        to_experiment(r, d)


def test_a_spend_up_is_sized_on_the_plan_and_on_the_recent_level_when_the_plan_is_zero(geo_test):
    frame, channel, start = geo_test.before.frame, geo_test.design.channel, geo_test.design.start
    zero = geo_spend_up(frame, channel, "revenue", start, 8, planned_multiple=0.0)
    half = geo_spend_up(frame, channel, "revenue", start, 8, planned_multiple=0.5)
    pre = frame[frame["date"] < start]
    for g in zero.treated:
        recent = pre.loc[pre["geo"] == g, channel].tail(8).mean()
        assert zero.notes["added_by_geo"][g] == pytest.approx(recent * 8)  # its usual level
        assert half.notes["added_by_geo"][g] == pytest.approx(recent * 8 * 0.5 * 0.3)
    assert zero.spend_up and zero.spend_removed == 0
    assert zero.spend_added == pytest.approx(sum(zero.notes["added_by_geo"].values()))
    # a channel cut to zero for the last weeks: sized on its usual level, not on nothing
    cut = frame.copy()
    late = pd.to_datetime(cut["date"]) >= start - pd.Timedelta(weeks=8)
    cut.loc[late, channel] = 0.0
    again = geo_spend_up(cut, channel, "revenue", start, 8, planned_multiple=0.0)
    assert again.spend_added > 0


def test_a_channel_between_flights_is_decided_on_its_usual_level_not_on_nothing(geo_test):
    """Multiples of a channel that spent nothing over the last adstock window are all zero:
    the decision would cut it and a test of it be worth nothing. The reference is then the
    mean of the last year's periods with spend."""
    from types import SimpleNamespace

    from marketing_ops.experiments import current_spend
    from marketing_ops.experiments.value import reference_spend

    channels = geo_test.before.spend_columns
    frame = national(geo_test.before.frame, channels)
    channel = geo_test.design.channel
    usual = frame[channel].tail(52)
    data = mmm_data(frame, "revenue", channels, "W", ["price", "promo"])
    fit = SimpleNamespace(data=data)
    assert reference_spend(fit, channel) == current_spend(fit, channel) > 0
    frame.loc[frame.index[-data.window :], channel] = 0.0  # off for the whole window
    off = SimpleNamespace(data=mmm_data(frame, "revenue", channels, "W", ["price", "promo"]))
    assert current_spend(off, channel) == 0
    spent = frame[channel].tail(52)
    assert reference_spend(off, channel) == pytest.approx(spent[spent > 0].mean())
    assert reference_spend(off, channel) == pytest.approx(usual.iloc[: 52 - data.window].mean())


def test_a_spend_up_holds_its_whole_added_spend_of_the_testing_budget(geo_test):
    """A spend-up runs on top of the period's total budget, so what it adds is bounded by the
    testing budget a person wrote, even when the model expects it to pay for itself (negative
    cost); a holdout holds only its expected cost (it spends less than the plan)."""
    from dataclasses import replace

    from marketing_ops.decisioning.policy import TestingPolicy
    from marketing_ops.experiments.governance import Proposal, _why_not, at_stake
    from marketing_ops.experiments.value import InformationValue

    frame, channel, start = geo_test.before.frame, geo_test.design.channel, geo_test.design.start
    up = replace(geo_spend_up(frame, channel, "revenue", start, 8, planned_multiple=1.0), power=0.9)
    value = InformationValue(channel, 9e9, 50_000.0, -20_000.0, 1.0, 1.0)  # "pays for itself"
    spend_up = Proposal(up, value)
    holdout = Proposal(replace(geo_test.design, power=0.9), replace(value, cost=3_000.0))
    assert at_stake(spend_up) == pytest.approx(up.spend_added) and up.spend_added > 0
    assert at_stake(holdout) == 3_000.0
    policy = TestingPolicy(enabled=True, budget_eur=up.spend_added * 0.9, min_power=0.5)
    assert "over the testing budget left" in _why_not(spend_up, policy, 0.0, [])
    assert _why_not(holdout, policy, 0.0, []) == ""
    roomy = policy.model_copy(update={"budget_eur": up.spend_added * 1.1})
    assert _why_not(spend_up, roomy, 0.0, []) == ""
    # what running tests hold counts: the spend-up no longer fits beside a running holdout
    assert "over the testing budget left" in _why_not(
        spend_up, roomy, at_stake(holdout) + up.spend_added * 0.2, []
    )


def test_a_test_worth_nothing_to_learn_is_refused_whatever_its_price(geo_test):
    """A spend-up the model prices as paying for itself but whose answer is worth nothing
    (the model is sure of the channel) is a budget move, not a test: refused."""
    from dataclasses import replace

    from marketing_ops.decisioning.policy import TestingPolicy
    from marketing_ops.experiments.governance import Proposal, _why_not
    from marketing_ops.experiments.value import InformationValue

    frame, channel, start = geo_test.before.frame, geo_test.design.channel, geo_test.design.start
    up = replace(geo_spend_up(frame, channel, "revenue", start, 8, planned_multiple=0.0), power=0.9)
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    sure = Proposal(up, InformationValue(channel, 0.0, 0.0, -1_435_078.0, 1.0, 1.0))
    assert _why_not(sure, policy, 0.0, []).startswith("worth nothing to learn")
    unsure = Proposal(up, InformationValue(channel, 9e4, 5e4, -1_435_078.0, 1.0, 1.0))
    assert _why_not(unsure, policy, 0.0, []) == ""
