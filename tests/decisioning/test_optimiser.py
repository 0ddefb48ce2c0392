"""Budget optimiser: limits always hold, the plan beats the simple splits, and at the
optimum the next euro earns the same on every channel the limits leave free."""

from __future__ import annotations

import numpy as np
import pytest

from marketing_ops.decisioning import (
    BudgetPolicy,
    ChannelBounds,
    period_revenue,
    phase_budget,
    plan_budget,
)
from marketing_ops.decisioning.budget.optimiser import incremental_period_revenue, plan_bounds
from marketing_ops.forecasting.curves import ResponseCurve

CHANNELS = ["display", "paid_search", "paid_social"]
WEEK = np.array([1.1, 1.0, 0.9, 0.95, 1.05, 1.2, 0.8])


def random_world(seed: int):
    """Concave curves (Hill shape <= 1), random last spend, carry-in and seasonality."""
    rng = np.random.default_rng(seed)
    curves = {
        c: ResponseCurve(
            c,
            decay=float(rng.uniform(0.1, 0.7)),
            half_saturation=float(rng.uniform(100, 800)),
            shape=float(rng.uniform(0.6, 1.0)),
            max_response=float(rng.uniform(10, 80)),
            value_per_conversion=float(rng.uniform(40, 120)),
        )
        for c in CHANNELS
    }
    last = {c: float(rng.uniform(300, 3000)) for c in CHANNELS}
    index = {c: rng.uniform(0.7, 1.3, 7) for c in CHANNELS}
    carry = {c: float(rng.uniform(0, 400)) for c in CHANNELS}
    return rng, curves, last, index, carry


def random_policy(rng, last) -> BudgetPolicy:
    channels = {}
    for c in CHANNELS:
        per_day = last[c] / 7
        channels[c] = ChannelBounds(
            min_eur_per_day=float(per_day * rng.uniform(0.0, 0.6)),
            max_eur_per_day=float(per_day * rng.uniform(1.1, 2.5)) if rng.random() < 0.7 else None,
        )
    locked = [CHANNELS[int(rng.integers(3))]] if rng.random() < 0.3 else []
    return BudgetPolicy(
        max_shift_pct=float(rng.uniform(10, 60)), channels=channels, locked_channels=locked
    )


@pytest.mark.parametrize(
    ("bounds", "shift", "locked", "expected"),
    [
        # 100 EUR/day = 700 a week; last week 1,000: a 20 % shift gives 800-1,200
        (ChannelBounds(min_eur_per_day=50, max_eur_per_day=200), 20, False, (800, 1200)),
        # the daily limits are tighter than the shift on one side
        (ChannelBounds(min_eur_per_day=130, max_eur_per_day=160), 20, False, (910, 1120)),
        # shift 800-1,200 and daily limits 1,400-2,100 disagree: the daily limits win
        (ChannelBounds(min_eur_per_day=200, max_eur_per_day=300), 20, False, (1400, 2100)),
        (ChannelBounds(), 50, False, (500, 1500)),
        (ChannelBounds(min_eur_per_day=50, max_eur_per_day=200), 20, True, (1000, 1000)),
    ],
)
def test_bounds_combine_daily_limits_shift_and_lock(bounds, shift, locked, expected) -> None:
    """A channel's range, hand-computed: daily limits x 7 narrowed by the max shift where they
    agree (daily limits win where they conflict), a locked channel held at last week."""
    curves = {"a": ResponseCurve("a", 0.3, 300.0, 1.0, 40.0, 50.0)}
    policy = BudgetPolicy(
        max_shift_pct=shift, channels={"a": bounds}, locked_channels=["a"] if locked else []
    )
    assert plan_bounds(curves, {"a": 1000.0}, policy).line_range("a") == pytest.approx(expected)


def test_total_is_raised_to_the_minimums_and_says_so() -> None:
    """A total below what the channels' minimums need becomes those minimums, with a note."""
    curves = {c: ResponseCurve(c, 0.3, 300.0, 1.0, 40.0, 50.0) for c in ("a", "b")}
    policy = BudgetPolicy(
        total_budget=500.0,
        channels={c: ChannelBounds(min_eur_per_day=100) for c in ("a", "b")},
        max_shift_pct=100,
    )
    bounds = plan_bounds(curves, {"a": 1000.0, "b": 1000.0}, policy)
    assert bounds.total == pytest.approx(1400.0)
    assert bounds.notes == ["total budget 500 EUR is below the channels' minimums; planned 1,400"]


@pytest.mark.parametrize("seed", range(12))
def test_every_limit_holds_and_plan_beats_simple_splits(seed: int) -> None:
    """Random concave worlds: total spent exactly, every channel inside its daily limits,
    max shift and lock, and no feasible simple split earns more than the plan."""
    rng, curves, last, index, carry = random_world(seed)
    policy = random_policy(rng, last)
    plan = plan_budget(curves, last, index, carry, policy)
    bounds = plan_bounds(curves, last, policy)
    tol = 1e-3 * sum(last.values())
    assert plan.total_spend == pytest.approx(bounds.total, abs=tol)
    for line in plan.lines:
        lo, hi = bounds.line_range(line.key)
        assert lo - tol <= line.amount <= hi + tol, (line.channel, line.amount, lo, hi)
        if line.channel in policy.locked_channels:
            assert line.amount == pytest.approx(last[line.channel], abs=tol)
    for alt in plan.alternatives:
        if alt.feasible:
            assert plan.expected_revenue >= alt.expected_revenue - 1e-6 * plan.expected_revenue
        assert alt.difference == pytest.approx(plan.expected_revenue - alt.expected_revenue)


@pytest.mark.parametrize("seed", range(8))
def test_free_channels_have_equal_marginal_roi(seed: int) -> None:
    """Without bounds biting, the optimum equalises the next euro's return across channels."""
    _, curves, last, index, carry = random_world(seed)
    plan = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    free = [line.marginal_roi for line in plan.lines if not line.binding]
    assert len(free) >= 2
    assert max(free) == pytest.approx(min(free), rel=0.01)
    # and a channel held at zero earns less at the margin than the free ones
    for line in plan.lines:
        if line.binding and line.amount < 1e-6:
            assert line.marginal_roi <= min(free) * 1.01


def test_unconstrained_plan_beats_both_alternatives() -> None:
    """With nothing binding, the plan earns strictly more than last period's and an even split."""
    _, curves, last, index, carry = random_world(3)
    plan = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    assert all(a.feasible and a.difference > 0 for a in plan.alternatives)


def test_identical_channels_split_evenly() -> None:
    """Hand-computable: two identical channels and no limits share the budget 50/50."""
    curve = dict(
        decay=0.3, half_saturation=300.0, shape=1.0, max_response=40.0, value_per_conversion=50.0
    )
    curves = {c: ResponseCurve(c, **curve) for c in ("a", "b")}
    plan = plan_budget(curves, {"a": 3000.0, "b": 1000.0}, {}, {}, BudgetPolicy(max_shift_pct=100))
    assert plan.line("a").amount == pytest.approx(2000.0, rel=1e-4)
    assert plan.line("b").amount == pytest.approx(2000.0, rel=1e-4)


def test_lock_and_bounds_are_reported_as_binding() -> None:
    """A locked channel keeps last period's spend, a capped one sits at its cap, and both say why."""
    _, curves, last, index, carry = random_world(5)
    free = plan_budget(
        curves, last, index, carry, BudgetPolicy(max_shift_pct=100, locked_channels=["display"])
    )
    cap = free.line("paid_search").amount * 0.5
    policy = BudgetPolicy(
        max_shift_pct=100,
        locked_channels=["display"],
        channels={"paid_search": ChannelBounds(max_eur_per_day=cap / 7)},
    )
    plan = plan_budget(curves, last, index, carry, policy)
    assert plan.line("display").amount == pytest.approx(last["display"])
    assert "display: locked at last period's spend" in plan.line("display").binding
    assert plan.line("paid_search").amount == pytest.approx(cap, rel=1e-6)
    assert any(b.startswith("paid_search: max") for b in plan.binding_constraints)
    assert plan.expected_revenue < free.expected_revenue  # a binding cap costs something


def test_target_roas_mode_keeps_roas_and_spends_less() -> None:
    """With a ROAS floor above what the full budget earns, the plan spends less and meets it."""
    _, curves, last, index, carry = random_world(1)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    target = full.expected_revenue / full.total_spend * 1.25
    plan = plan_budget(
        curves, last, index, carry, BudgetPolicy(max_shift_pct=100, target_roas=target)
    )
    assert plan.total_spend < full.total_spend
    assert plan.expected_revenue >= target * plan.total_spend * (1 - 1e-6)
    assert any(b.startswith("target ROAS") for b in plan.binding_constraints)


def test_min_spend_mode_reaches_target_at_least_cost() -> None:
    """Minimum spend for a revenue target: the target is met, and the most revenue one can
    buy with that spend is the target itself (so no cheaper plan reaches it)."""
    _, curves, last, index, carry = random_world(2)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    target = 0.8 * full.expected_revenue
    plan = plan_budget(
        curves,
        last,
        index,
        carry,
        BudgetPolicy(max_shift_pct=100, objective="min_spend", target_revenue=target),
    )
    assert plan.expected_revenue == pytest.approx(target, rel=1e-4)
    best_for_spend = plan_budget(
        curves, last, index, carry, BudgetPolicy(max_shift_pct=100, total_budget=plan.total_spend)
    )
    assert best_for_spend.expected_revenue == pytest.approx(target, rel=1e-3)


def test_unreachable_target_falls_back_and_says_so() -> None:
    """A revenue target no budget can reach gives the best plan for the total, with a note."""
    _, curves, last, index, carry = random_world(2)
    policy = BudgetPolicy(max_shift_pct=100, objective="min_spend", target_revenue=1e9)
    plan = plan_budget(curves, last, index, carry, policy)
    assert plan.total_spend == pytest.approx(sum(last.values()), rel=1e-6)
    assert any("not reachable" in n for n in plan.notes)


def test_profit_mode_stops_where_the_next_euro_loses_money() -> None:
    """Max profit with a generous ceiling stops spending where marginal ROI falls to 1."""
    _, curves, last, index, carry = random_world(4)
    policy = BudgetPolicy(
        max_shift_pct=100, objective="max_profit", total_budget=10 * sum(last.values())
    )
    plan = plan_budget(curves, {c: v for c, v in last.items()}, index, carry, policy)
    free = [line for line in plan.lines if not line.binding]
    assert free
    for line in free:
        assert line.marginal_roi == pytest.approx(1.0, abs=0.02)


def test_campaign_lines_share_their_channel_limit() -> None:
    """Curves keyed by campaign: the channel's cap binds their sum, the campaign id is kept."""
    base = dict(
        decay=0.2, half_saturation=200.0, shape=0.9, max_response=30.0, value_per_conversion=60.0
    )
    curves = {
        "9000000101": ResponseCurve("paid_search", **base),
        "9000000102": ResponseCurve("paid_search", **base),
        "2385000000101": ResponseCurve("paid_social", **base),
    }
    last = {"9000000101": 1000.0, "9000000102": 1000.0, "2385000000101": 1000.0}
    policy = BudgetPolicy(
        max_shift_pct=100, channels={"paid_search": ChannelBounds(max_eur_per_day=1200 / 7)}
    )
    plan = plan_budget(curves, last, {}, {}, policy)
    search = [line for line in plan.lines if line.channel == "paid_search"]
    assert sum(line.amount for line in search) == pytest.approx(1200.0, rel=1e-5)
    assert {line.campaign_id for line in search} == {"9000000101", "9000000102"}
    assert plan.total_spend == pytest.approx(3000.0, rel=1e-6)


def test_intervals_come_from_samples() -> None:
    """Bootstrap draws give an interval around the point estimate; no draws, no interval."""
    _, curves, last, index, carry = random_world(6)
    samples = {
        c: [
            ResponseCurve(
                c,
                cv.decay,
                cv.half_saturation,
                cv.shape,
                cv.max_response * f,
                cv.value_per_conversion,
            )
            for f in np.linspace(0.8, 1.2, 21)
        ]
        for c, cv in curves.items()
    }
    plan = plan_budget(curves, last, index, carry, BudgetPolicy(), samples=samples)
    for line in plan.lines:
        assert line.revenue_lower < line.expected_revenue < line.revenue_upper
        assert 0 < line.confidence < 1
    assert plan.revenue_lower < plan.expected_revenue < plan.revenue_upper
    bare = plan_budget(curves, last, index, carry, BudgetPolicy())
    assert np.isnan(bare.lines[0].revenue_lower) and bare.lines[0].confidence == 0.0


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (np.array([1, 1, 2, 1, 1, 1, 1.0]), [500, 500, 1000, 500, 500, 500, 500]),
        (np.array([2.0, 2.0]), [8000 / 9] * 2 + [4000 / 9] * 5),  # short index padded with 1.0
        (np.zeros(7), [4000 / 7] * 7),  # meaningless shape: even split
        (None, [4000 / 7] * 7),
    ],
)
def test_phasing_sums_to_amount_and_follows_index(index, expected) -> None:
    """Daily amounts add up to the period amount, in proportion to the seasonal index."""
    daily = phase_budget(4000.0, index, 7)
    assert daily.sum() == pytest.approx(4000.0)
    assert daily == pytest.approx(expected)


def test_period_revenue_counts_carry_in() -> None:
    """Adstock carried in from last period adds revenue even before any new spend."""
    curve = ResponseCurve("x", 0.5, 100.0, 1.0, 10.0, 20.0)
    without = period_revenue(curve, 0.0, None, 0.0, 7)[1]
    with_carry = period_revenue(curve, 0.0, None, 200.0, 7)[1]
    assert without == 0.0 and with_carry > 0.0


def test_target_cpa_mode_keeps_cost_per_conversion() -> None:
    """With a CPA ceiling below what the full budget costs per conversion, the plan spends
    less and each conversion costs at most the target."""
    _, curves, last, index, carry = random_world(1)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    target = full.total_spend / full.expected_conversions * 0.8
    plan = plan_budget(
        curves, last, index, carry, BudgetPolicy(max_shift_pct=100, target_cpa=target)
    )
    assert plan.total_spend < full.total_spend
    assert plan.total_spend <= target * plan.expected_conversions * (1 + 1e-6)
    assert any(b.startswith("target CPA") for b in plan.binding_constraints)


def test_min_spend_for_target_conversions() -> None:
    """Minimum spend for a conversion target: the target is met and no cheaper plan could."""
    _, curves, last, index, carry = random_world(3)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    target = 0.7 * full.expected_conversions
    plan = plan_budget(
        curves,
        last,
        index,
        carry,
        BudgetPolicy(max_shift_pct=100, objective="min_spend", target_conversions=target),
    )
    assert plan.expected_conversions == pytest.approx(target, rel=1e-4)
    assert plan.total_spend < full.total_spend
    cheaper = plan_budget(
        curves,
        last,
        index,
        carry,
        BudgetPolicy(max_shift_pct=100, total_budget=plan.total_spend * 0.98),
    )
    # 2% less money, spent for the most revenue, buys fewer conversions than the target
    assert cheaper.expected_conversions < target


def _policy_space(rng) -> BudgetPolicy:
    """A random budget policy: any objective and target mode, bounds, locks and shift."""
    mode = rng.choice(["revenue", "profit", "roas", "cpa", "min_revenue", "min_conv"])
    bounds = {}
    for c in CHANNELS:
        if rng.random() < 0.6:
            bounds[c] = ChannelBounds(
                min_eur_per_day=float(rng.uniform(0, 150)),
                max_eur_per_day=float(rng.uniform(200, 700)) if rng.random() < 0.7 else None,
            )
    kw = dict(
        max_shift_pct=float(rng.uniform(5, 100)),
        channels=bounds,
        locked_channels=[str(rng.choice(CHANNELS))] if rng.random() < 0.3 else [],
    )
    if mode == "profit":
        kw.update(objective="max_profit", total_budget=float(rng.uniform(2000, 9000)))
    elif mode == "roas":
        kw.update(target_roas=float(rng.uniform(0.5, 6)))
    elif mode == "cpa":
        kw.update(target_cpa=float(rng.uniform(10, 200)))
    elif mode == "min_revenue":
        kw.update(objective="min_spend", target_revenue=float(rng.uniform(1000, 30000)))
    elif mode == "min_conv":
        kw.update(objective="min_spend", target_conversions=float(rng.uniform(10, 300)))
    return BudgetPolicy(**kw)


@pytest.mark.parametrize("seed", range(40))
def test_guardrails_are_never_violated(seed: int) -> None:
    """Whatever the objective, target and limits: a locked channel keeps last period's spend,
    every other channel stays inside its daily limits (which win over max shift when they
    conflict) and its max shift, and a ceiling total is never exceeded; when a target is out
    of reach the plan says so instead of breaking a limit."""
    rng, curves, last, index, carry = random_world(seed)
    policy = _policy_space(rng)
    plan = plan_budget(curves, last, index, carry, policy)
    bounds = plan_bounds(curves, last, policy)
    total = sum(last.values()) if policy.total_budget == "keep_last_period" else policy.total_budget
    tol = 1e-3 * max(total, 1.0)
    for line in plan.lines:
        c = line.channel
        if c in policy.locked_channels:
            assert line.amount == pytest.approx(last[c], abs=tol)
        lo, hi = bounds.line_range(line.key)
        assert lo - tol <= line.amount <= hi + tol, (c, line.amount, lo, hi, policy)
    # the total is never above the budget, unless the channels' minimums force it (and say so)
    mins = float(bounds.lo.sum())
    assert plan.total_spend <= max(total, mins) + tol
    assert (mins > total + tol) == any("below the channels' minimums" in n for n in plan.notes)
    unreachable = [n for n in plan.notes if "not reachable" in n]
    if unreachable:
        # out of reach: the most revenue for the total within the limits, naming the target
        named = {
            "target ROAS": policy.target_roas,
            "target CPA": policy.target_cpa,
            "target revenue": policy.target_revenue,
            "target conversions": policy.target_conversions,
        }
        assert [w for w, v in named.items() if v is not None and w in unreachable[0]]
        reachable = min(bounds.total, float(bounds.hi.sum()))
        assert plan.total_spend == pytest.approx(reachable, abs=tol)
        return
    rel = 1 + 1e-5
    if policy.target_roas is not None:
        assert plan.expected_revenue * rel >= policy.target_roas * plan.total_spend
    if policy.target_cpa is not None:
        assert plan.total_spend <= policy.target_cpa * plan.expected_conversions * rel
    if policy.target_revenue is not None:
        assert plan.expected_revenue * rel >= policy.target_revenue
    if policy.target_conversions is not None:
        assert plan.expected_conversions * rel >= policy.target_conversions


def test_plan_is_scored_on_the_increment_over_carry_in() -> None:
    """Adstock carried in still saturates a channel (its plan spend buys less), but what it
    buys on its own is not credited to the plan: revenue and ROAS are the plan's own."""
    curve = ResponseCurve("x", 0.6, 300.0, 1.0, 40.0, 50.0)
    policy = BudgetPolicy(max_shift_pct=100, total_budget=1400.0)
    cold = plan_budget({"x": curve}, {"x": 1400.0}, {}, {"x": 0.0}, policy)
    warm = plan_budget({"x": curve}, {"x": 1400.0}, {}, {"x": 2000.0}, policy)
    full = period_revenue(curve, 1400.0, None, 2000.0, 7)[1]
    alone = period_revenue(curve, 0.0, None, 2000.0, 7)[1]
    assert warm.expected_revenue == pytest.approx(full - alone)
    assert warm.extra["carry_in_revenue"] == pytest.approx(alone)
    assert 0 < warm.expected_revenue < cold.expected_revenue  # saturated by the carry-in
    assert any(n.startswith("carry-in:") for n in warm.notes)
    assert cold.extra["carry_in_revenue"] == 0.0


def test_carry_in_moves_money_to_the_channel_it_has_not_saturated() -> None:
    """Two identical channels, one still full of last week's adstock: the plan puts more of
    the total on the other one."""
    curve = ResponseCurve("a", 0.7, 200.0, 1.0, 30.0, 50.0)
    curves = {"a": curve, "b": ResponseCurve("b", 0.7, 200.0, 1.0, 30.0, 50.0)}
    policy = BudgetPolicy(max_shift_pct=100)
    plan = plan_budget(curves, {"a": 700.0, "b": 700.0}, {}, {"a": 1500.0, "b": 0.0}, policy)
    assert plan.line("b").amount > plan.line("a").amount


def test_carryover_days_value_the_weeks_spend_with_its_tail() -> None:
    """With ``carryover_days`` the plan counts what its spend sells after the week (the plan's
    daily spend going on, scaled to one week): a slow channel (decay 0.9) that a myopic plan
    starves, since most of its return arrives later, gets the money; the plan's revenue is
    its own over the period and the tail, and from no adstock the tail only adds."""
    slow = ResponseCurve("slow", 0.9, 3000.0, 1.0, 40.0, 50.0)
    fast = ResponseCurve("fast", 0.1, 300.0, 1.0, 30.0, 50.0)
    curves, last = {"slow": slow, "fast": fast}, {"slow": 1400.0, "fast": 1400.0}
    carry = {"slow": 0.0, "fast": 0.0}
    myopic = plan_budget(curves, last, {}, carry, BudgetPolicy(max_shift_pct=100))
    patient = plan_budget(
        curves, last, {}, carry, BudgetPolicy(max_shift_pct=100, carryover_days=42)
    )
    assert myopic.line("slow").amount < 1400.0 < patient.line("slow").amount
    assert patient.expected_revenue == pytest.approx(
        sum(period_revenue(curves[k], patient.line(k).amount, None, 0.0, 7, 42)[1] for k in curves)
    )
    week = period_revenue(slow, 1400.0, None, 0.0, 7)[1]
    assert week < period_revenue(slow, 1400.0, None, 0.0, 7, 42)[1]
    assert period_revenue(slow, 1400.0, None, 0.0, 7, 0) == period_revenue(
        slow, 1400.0, None, 0.0, 7
    )


def test_carryover_days_hold_the_following_weeks_at_the_plan() -> None:
    """The tail keeps spending the plan's daily amount and the horizon's revenue is scaled to
    one period. From the adstock a steady spend leaves (s / (1 - d)) the plan at that spend is
    worth the curve's steady weekly revenue whatever the tail (the steady-state view; with
    nothing spent after, the tail's adstock would run down instead); from no adstock it is
    the hand-computed geometric adstock s (1 - d^(t+1)) / (1 - d) through the Hill curve,
    summed over period and tail, times 7 / (7 + T), by the point curve and by the posterior
    expectation alike; ``carryover_days: 0`` is the week alone."""
    from marketing_ops.decisioning.budget.optimiser import _Draws, expected_period_revenue

    d, half, top, value, s = 0.8, 400.0, 40.0, 50.0, 200.0
    curve = ResponseCurve("c", d, half, 1.0, top, value)
    steady = 7 * float(curve.steady_state_revenue(s))
    for tail in (0, 7, 28, 90):
        assert period_revenue(curve, 7 * s, None, s / (1 - d), 7, tail)[1] == pytest.approx(
            steady, rel=1e-9
        )
    for tail in (0, 7, 28):
        t = np.arange(7 + tail)
        a = s * (1 - d ** (t + 1)) / (1 - d)
        by_hand = float((top * a / (a + half)).sum()) * value * 7 / (7 + tail)
        conv, rev = incremental_period_revenue(curve, 7 * s, None, 0.0, 7, tail)
        assert rev == pytest.approx(by_hand, rel=1e-9)
        assert conv * value == pytest.approx(rev)
        # the posterior expectation's path (draws all equal to the curve) is the same value
        draws = _Draws.of([curve, curve])
        assert expected_period_revenue(draws, 7 * s, None, 0.0, 7, tail)[1] == pytest.approx(
            by_hand, rel=1e-9
        )


def test_target_roas_objective_buys_most_revenue_at_the_floor() -> None:
    """Objective target_roas: the ceiling is not spent when the floor binds; the plan's own
    ROAS meets the target and equals it where the floor binds."""
    _, curves, last, index, carry = random_world(1)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    target = full.expected_revenue / full.total_spend * 1.25
    policy = BudgetPolicy(max_shift_pct=100, objective="target_roas", target_roas=target)
    plan = plan_budget(curves, last, index, carry, policy)
    assert plan.objective == "target_roas"
    assert plan.total_spend < full.total_spend
    assert plan.expected_revenue / plan.total_spend == pytest.approx(target, rel=1e-3)
    cheaper = plan_budget(
        curves, last, index, carry, policy.model_copy(update={"target_roas": target * 1.2})
    )
    assert cheaper.expected_revenue < plan.expected_revenue  # a higher floor buys less


def test_target_cpa_objective_maximises_conversions_within_the_cost() -> None:
    """Objective target_cpa: the most conversions whose cost per conversion stays at or
    below the target; a looser target buys at least as many."""
    _, curves, last, index, carry = random_world(3)
    full = plan_budget(curves, last, index, carry, BudgetPolicy(max_shift_pct=100))
    cpa = full.total_spend / full.expected_conversions * 0.8
    policy = BudgetPolicy(max_shift_pct=100, objective="target_cpa", target_cpa=cpa)
    plan = plan_budget(curves, last, index, carry, policy)
    assert plan.objective == "target_cpa"
    assert plan.total_spend <= cpa * plan.expected_conversions * (1 + 1e-6)
    assert plan.total_spend < full.total_spend
    looser = plan_budget(
        curves, last, index, carry, policy.model_copy(update={"target_cpa": cpa * 1.1})
    )
    assert looser.expected_conversions >= plan.expected_conversions * (1 - 1e-6)
    assert looser.total_spend <= looser.total_budget * (1 + 1e-9)


def test_expectation_over_posterior_draws_plans_for_expected_revenue() -> None:
    """A bimodal posterior (two chains that disagree): planning on the median-parameter curve
    ignores it, planning on the expectation over the draws maximises expected revenue; the
    plan's figures are then the draws' averages."""
    from marketing_ops.decisioning.budget.optimiser import _Draws, expected_period_revenue

    def curve(c, half, top):
        return ResponseCurve(c, 0.3, half, 1.6, top, 50.0)

    samples = {
        "a": [curve("a", 150.0, 40.0)] * 20 + [curve("a", 3000.0, 40.0)] * 21,
        "b": [curve("b", 900.0, 30.0)] * 41,
    }
    point = {c: sorted(d, key=lambda x: x.half_saturation)[20] for c, d in samples.items()}
    last, carry = {"a": 3500.0, "b": 3500.0}, {"a": 600.0, "b": 600.0}
    policy = BudgetPolicy(max_shift_pct=100)
    on_point = plan_budget(point, last, {}, carry, policy, samples)
    on_draws = plan_budget(point, last, {}, carry, policy, samples, expectation=True)

    def expected(amounts):
        return sum(
            expected_period_revenue(_Draws.of(samples[c]), a, None, carry[c], 7)[1]
            for c, a in amounts.items()
        )

    assert on_draws.expected_revenue == pytest.approx(expected(on_draws.amounts), rel=1e-9)
    assert expected(on_draws.amounts) > expected(on_point.amounts)
    assert on_draws.total_spend == pytest.approx(7000.0)
