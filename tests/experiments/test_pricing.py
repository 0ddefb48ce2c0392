"""What a test is priced at on a model whose posterior is known: a geo test on the treated
geos' own level, the decision's multiples on the level a plan passes, and the design a
channel proposes chosen by what it teaches, not by what the model expects it to earn."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from marketing_ops.decisioning.policy import TestingPolicy
from marketing_ops.experiments import geo_spend_up
from marketing_ops.experiments.governance import Proposal, best_design
from marketing_ops.experiments.value import (
    InformationValue,
    _window_draws,
    lift_draws,
    profit_draws,
    reference_spend,
)

from .world import known_fit


@pytest.fixture(scope="module")
def fit(geo_test):
    pre = geo_test.before.frame
    pre = pre[pd.to_datetime(pre["date"]) < geo_test.design.start]
    return known_fit(pre, geo_test.before.spend_columns, roi=[1.5, 1.5])


def _treated_share(design, frame) -> float:
    pre = frame[pd.to_datetime(frame["date"]) < design.start]
    by_geo = pre.pivot_table(index="date", columns="geo", values=design.channel, aggfunc="sum")
    recent = by_geo.tail(design.periods).mean()
    return float(recent[list(design.treated)].sum() / recent.sum())


def test_a_geo_test_is_priced_on_the_treated_geos_level_not_spread_nationally(
    fit, geo_test, spend_up_test
):
    """A holdout stopping all spend in geos holding ``w`` of it loses ``w`` of the channel's
    whole response at the plan, more than the same money cut from every geo on a concave
    curve; a spend-up concentrated there buys less than the same money spread (its cost was
    missed 5x in the first benchmark)."""
    holdout, up = geo_test.design, spend_up_test.design
    w = holdout.notes["treated_share"]
    assert w == pytest.approx(_treated_share(holdout, geo_test.before.frame))
    assert 0.2 < w < 0.8  # (the spend-up's own salt picks other treated geos)
    assert up.notes["treated_share"] == pytest.approx(_treated_share(up, geo_test.before.frame))
    level = reference_spend(fit, holdout.channel)
    holdout, up = replace(holdout, base_spend=level), replace(up, base_spend=level)
    base = level * holdout.periods
    whole = _window_draws(fit, holdout.channel, np.array([base, 0.0]), holdout.periods, 400)
    assert holdout.spend_removed / w == pytest.approx(base, rel=0.1)  # the plan in those geos
    priced = lift_draws(fit, holdout)
    spread = lift_draws(fit, replace(holdout, notes={}))  # the old national pricing
    assert priced.mean() > 1.1 * spread.mean()
    assert priced.mean() == pytest.approx(w * (whole[:, 0] - whole[:, 1]).mean(), rel=0.1)
    up_priced, up_spread = lift_draws(fit, up), lift_draws(fit, replace(up, notes={}))
    assert 0 < up_priced.mean() < 0.9 * up_spread.mean()
    # a design over every geo is the nation: priced as before
    assert lift_draws(fit, replace(up, notes={"treated_share": 1.0})).mean() == pytest.approx(
        up_spread.mean()
    )


def test_the_decision_multiples_scale_the_level_the_plan_passes(fit, geo_test):
    c = geo_test.design.channel
    ref = reference_spend(fit, c)
    default = profit_draws(fit, c, 13, multiples=[0.0, 1.0, 2.0])
    doubled = profit_draws(fit, c, 13, multiples=[0.0, 1.0], level=2 * ref)
    assert doubled[:, 1] == pytest.approx(default[:, 2])
    assert not np.allclose(doubled[:, 1], default[:, 1])


def test_a_channel_proposes_the_design_that_teaches_not_the_one_priced_as_paying(geo_test):
    """Ranked on value net of cost, a spend-up the model prices as paying for itself (the very
    belief under test) outranks a holdout worth more to learn, or — worth nothing — gets the
    whole channel refused while its holdout would teach something."""
    up = replace(geo_test.design, direction="spend_up", power=0.9)
    hold = replace(geo_test.design, power=0.9)
    c, policy = hold.channel, TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    holdout = Proposal(hold, InformationValue(c, 9e4, 50_000.0, 10_000.0, 1.0, 1.0))
    free_budget_move = Proposal(up, InformationValue(c, 0.0, 0.0, -1_435_078.0, 1.0, 1.0))
    paying = Proposal(up, InformationValue(c, 9e4, 30_000.0, -500_000.0, 1.0, 1.0))
    assert best_design([free_budget_move, holdout], policy) is holdout
    assert paying.value.net > holdout.value.net  # what the ranking used to pick
    assert best_design([paying, holdout], policy) is holdout
    assert paying.value.merit == 30_000.0 and holdout.value.merit == 40_000.0
    weak = replace(holdout, design=replace(hold, power=0.1))
    assert best_design([weak, paying], policy) is paying  # the powered one, whatever its merit


def test_a_test_worth_little_for_the_spend_it_moves_is_refused(geo_test):
    """A spend-up adding ~1 M EUR "worth 977 EUR to learn" (benchmark world 2), or worth a
    floating-point hair above 0 (world 1), is a budget move: refused below 1 cent of value
    per EUR moved, and the same test worth more passes; a holdout counts the spend not spent."""
    from marketing_ops.experiments.governance import _why_not

    frame, channel, start = geo_test.before.frame, geo_test.design.channel, geo_test.design.start
    up = replace(geo_spend_up(frame, channel, "revenue", start, 8), power=0.9)
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    assert policy.min_value_share_of_spend == 0.01
    for worth in (1e-9, 0.009 * up.spend_added):
        budget_move = Proposal(up, InformationValue(channel, 1e5, worth, -800_000.0, 1.0, 1.0))
        assert _why_not(budget_move, policy, 0.0, []).startswith("worth too little to learn")
    enough = Proposal(up, InformationValue(channel, 1e5, 0.011 * up.spend_added, -8e5, 1, 1))
    assert _why_not(enough, policy, 0.0, []) == ""
    hold = replace(geo_test.design, power=0.9)
    little = Proposal(hold, InformationValue(channel, 1e5, 0.009 * hold.spend_removed, 0.0, 1, 1))
    assert "not spent" in _why_not(little, policy, 0.0, [])
    # and a channel proposes its informative design, not the budget move beside it
    worth = Proposal(hold, InformationValue(channel, 1e5, 0.02 * hold.spend_removed, 10.0, 1, 1))
    moved = Proposal(up, InformationValue(channel, 1e5, 1e-9, -800_000.0, 1.0, 1.0))
    assert best_design([moved, worth], policy) is worth


def test_a_design_whose_read_out_would_be_rejected_for_its_markets_is_refused(geo_test):
    """The read-out rejects matched markets that did not move together before the test
    (benchmark world 2: correlation 0.43, every geo test rejected after it had run); the design
    knows that correlation when it is made, so such a test is refused up front."""
    from marketing_ops.experiments import geo_readout
    from marketing_ops.experiments.governance import _why_not

    d = geo_test.design
    read = geo_readout(geo_test.observed, d, "revenue")
    assert d.notes["pre_correlation"] == pytest.approx(read.details["pre_correlation"])
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    value = InformationValue(d.channel, 1e6, 0.5 * d.spend_removed, 0.0, 1.0, 1.0)
    good = Proposal(replace(d, power=0.9), value)
    assert d.notes["pre_correlation"] >= 0.5 and _why_not(good, policy, 0.0, []) == ""
    poor = replace(good, design=replace(good.design, notes={**d.notes, "pre_correlation": 0.43}))
    assert _why_not(poor, policy, 0.0, []).startswith("poor market match: pre-period correlation")
    assert best_design([poor, good], policy) is good


def test_an_earlier_test_ends_the_pre_period_of_the_design_and_its_read_out_alike(geo_test, fit):
    """The benchmark read a week-12 display spend-up out on a pre-period ending at week 0 and
    its design checked the market match on one ending at week 12: it passed at design time and
    was rejected at read-out (0.43). Now an earlier test in the same geos ends the pre-period
    of both (``designs.pre_period_end``): here one starting in week 13 leaves 13 weeks whose
    markets match at 0.40, so the design is refused with the read-out's own reason; one in
    week 5 leaves too short a pre-period; without one the same design passes."""
    from marketing_ops.experiments import geo_holdout, geo_readout
    from marketing_ops.experiments.governance import _why_not, propose_tests

    from .conftest import run_holdout

    world, d0 = geo_test.before, geo_test.design
    dates = sorted(pd.to_datetime(world.frame["date"].unique()))
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.0, channels=[d0.channel])
    assert d0.notes["pre_end"] == d0.start and d0.notes["pre_correlation"] >= 0.5
    for week, problem in ((13, "poor market match"), (5, "pre-period too short")):
        earlier = geo_holdout(world.frame, "tv", "revenue", dates[week], 6)
        assert earlier.geos() & d0.geos()
        d = geo_holdout(world.frame, d0.channel, "revenue", d0.start, 8, earlier=[earlier])
        assert d.notes["pre_end"] == dates[week] and d.notes["pre_periods"] == week
        after, _ = run_holdout(world, d)
        read = geo_readout(after.frame[after.frame["date"] <= d.end], d, "revenue")
        assert read.details["pre_periods"] == week
        assert read.details["pre_correlation"] == pytest.approx(d.notes["pre_correlation"])
        assert any(p.startswith(problem) for p in read.problems)
        value = InformationValue(d.channel, 1e6, 0.5 * d.spend_removed, 0.0, 1.0, 1.0)
        why = _why_not(Proposal(replace(d, power=0.9), value), policy, 0.0, [])
        assert why.startswith(problem) and why.endswith("its read-out would be rejected")
        assert f"history before {dates[week].date()}" in why
        # and through the agent's own proposal: the channel is refused with that reason
        pre = world.frame[pd.to_datetime(world.frame["date"]) < d0.start]
        kept, skipped = propose_tests(fit, pre, d0.start, policy, [], 13, earlier=[earlier])
        assert kept == [] and skipped[d0.channel].startswith(problem)
    passing = InformationValue(d0.channel, 1e6, 0.5 * d0.spend_removed, 0.0, 1.0, 1.0)
    assert _why_not(Proposal(replace(d0, power=0.9), passing), policy, 0.0, []) == ""


def test_a_design_the_models_calibration_check_would_refuse_is_refused_up_front(geo_test, fit):
    """Benchmark world 2: a display spend-up passed its design (power 0.56 at the posterior's
    expected lift) and its read-out was rejected by the model's calibration check
    ("underpowered: power 0.13 < 0.2 at the prior's median lift"). The design now computes
    that power from the model's priors (``prior_fit``: the same lift the check computes on the
    read-out's row, within 25 %) and is refused when it is under ``QualityRules.min_power``."""
    from marketing_ops.experiments import geo_readout
    from marketing_ops.experiments.governance import _why_not, calibration_power
    from marketing_ops.experiments.readout import to_experiment
    from marketing_ops.forecasting.mmm import check_experiments, mmm_data
    from marketing_ops.forecasting.mmm.calibration import prior_fit

    from .world import national

    prior = prior_fit(fit, 400)
    assert set(prior.samples) == set(fit.samples) and len(prior.samples["roi"]) == 400
    assert prior.samples["roi"].std() > 0  # draws of the priors, not the fit's four
    d = calibration_power(prior, geo_test.design)
    world, observed = geo_test.after, geo_test.observed
    data = mmm_data(
        national(observed, world.spend_columns), "revenue", world.spend_columns, "W",
        ["price", "promo"],
    )  # fmt: skip
    row = to_experiment(geo_readout(observed, d, "revenue"), d, (), data)
    check = check_experiments([row], data)[0]
    assert check.accepted, check.reason
    # the check on the design's own spend (the read-out's row holds what the window spent,
    # read from the controls): the same lift the design priced, within 25 %
    as_designed = check_experiments([replace(row, spend_delta=d.spend_removed)], data)[0]
    assert d.notes["prior_lift_median"] == pytest.approx(as_designed.prior_lift_median, rel=0.25)
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    value = InformationValue(d.channel, 1e6, 0.5 * d.spend_removed, 0.0, 1.0, 1.0)
    good = Proposal(replace(d, power=0.9), value)
    assert d.notes["calibration_power"] > 0.9 and _why_not(good, policy, 0.0, []) == ""
    # the same test read 8x less precisely: the check refuses its row, and now its design
    wide = calibration_power(prior, replace(d, standard_error=8 * d.standard_error, power=0.9))
    refused = check_experiments([replace(row, standard_error=8 * row.standard_error)], data)[0]
    assert not refused.accepted and refused.reason.startswith("underpowered")
    assert wide.notes["calibration_power"] < 0.2
    why = _why_not(Proposal(wide, value), policy, 0.0, [])
    assert why.startswith("underpowered for the model's calibration check: power 0.1")
    assert why.endswith("its read-out would be rejected")
    assert best_design([Proposal(wide, value), good], policy) is good


def test_a_holdouts_cost_priced_at_an_upper_quantile_can_make_the_spend_up_the_better_test(
    geo_test,
):
    """A holdout of a channel the model may underrate forgoes more than the posterior mean
    says (benchmark world 1: priced 13,799 EUR, forgone 2.04 M). At ``testing.cost_quantile``
    0.9 a holdout loses the lift's upper 0.9 quantile and a spend-up buys its lower 0.1 one:
    on a posterior with ROI 0.5 / 1 / 1.5 / 2.5 the holdout's cost rises ~4x, the spend-up's
    much less (it moves less money), and the channel's design flips from the holdout to the
    spend-up."""
    from marketing_ops.experiments import geo_holdout, geo_spend_up
    from marketing_ops.experiments.governance import _summary
    from marketing_ops.experiments.value import test_cost, value_of_test

    world, d0 = geo_test.before, geo_test.design
    pre = world.frame[pd.to_datetime(world.frame["date"]) < d0.start]
    fit = known_fit(pre, world.spend_columns, roi=[0.5, 1.0, 1.5, 2.5])
    level = reference_spend(fit, d0.channel)
    hold = replace(geo_holdout(world.frame, d0.channel, "revenue", d0.start, 8), base_spend=level)
    up = replace(geo_spend_up(world.frame, d0.channel, "revenue", d0.start, 8), base_spend=level)
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_power=0.5)
    assert policy.cost_quantile == 0.9
    chosen = {}
    for q in (None, policy.cost_quantile):
        options = []
        for d in (hold, up):
            v = value_of_test(fit, d, 13, 400, cost_quantile=q)
            options.append(Proposal(replace(d, power=0.9), v))
        chosen[q] = best_design(options, policy)
        held, raised = options
        if q is None:
            mean_hold, mean_up, worth = held.value.cost, raised.value.cost, held.value.evsi
            assert held.value.cost == held.value.expected_cost
        else:
            lift = lift_draws(fit, hold)
            assert held.value.cost == pytest.approx(
                np.quantile(lift, q) - hold.spend_removed, rel=1e-6
            )
            assert held.value.cost == pytest.approx(test_cost(hold, lift, 1.0, q))
            assert held.value.expected_cost == pytest.approx(mean_hold)
            assert held.value.cost > 3 * mean_hold > 0
            assert mean_up < raised.value.cost < mean_up + 0.5 * (held.value.cost - mean_hold)
            assert held.value.evsi == worth  # what the answer is worth is not repriced
            said = _summary(held, 13)  # the rationale gives both prices
            assert f"costs {held.value.cost:,.0f} EUR" in said
            assert f"more than expected (testing.cost_quantile 0.9; {mean_hold:,.0f} EUR" in said
    assert not chosen[None].design.spend_up  # at the mean: the holdout teaches more net
    assert chosen[0.9].design.spend_up
    with pytest.raises(ValueError):
        TestingPolicy(cost_quantile=0.3)


def test_tail_weeks_reads_each_geo_design_on_after_its_end_and_the_summary_says_so(fit, geo_test):
    from marketing_ops.experiments.governance import _candidates, _summary

    d0 = geo_test.design
    pre = geo_test.before.frame
    pre = pre[pd.to_datetime(pre["date"]) < d0.start]
    policy = TestingPolicy(enabled=True, budget_eur=1e12, min_weeks=4, max_weeks=8)
    plain = _candidates(fit, pre, d0.channel, d0.start, policy)
    assert plain and all(d.readout_end is None and d.read_until == d.end for d in plain)
    read_on = _candidates(
        fit, pre, d0.channel, d0.start, policy.model_copy(update={"tail_weeks": 4})
    )
    assert [replace(d, readout_end=None) for d in read_on] == plain  # the same tests, read longer
    assert all(d.read_until == d.end + pd.Timedelta(weeks=4) for d in read_on)
    value = InformationValue(d0.channel, 1.0, 1.0, 1.0, 1.0, 1.0)
    summary = _summary(Proposal(read_on[0], value), 13)
    assert f"read on to {read_on[0].read_until.date()} for the carry-over it leaves" in summary
    assert "read on" not in _summary(Proposal(plain[0], value), 13)
