"""The forward plan: next period's KPIs under any budget split, checked against the true
expected outcome of the simulator for the same split."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.forecasting import (
    ForwardPlanner,
    carry_in_adstock,
    fit_baselines,
    forward_plan,
    phase_by_index,
    response_frame,
    seasonal_index_rows,
)
from marketing_ops.forecasting.curves import adstock

PERIOD = 7
PLAN_TOLERANCE = 0.10  # per paid channel, relative to the true expected conversions


@pytest.fixture(scope="module")
def planned(fitted_worlds, settings):
    """World 1 with its spend-free baselines and demand index stored as agent.forecasts rows."""
    w = fitted_worlds[0]
    s = settings.model_copy(
        update={"audiences": settings.audiences.model_copy(update={"enabled": False})}
    )
    free = w.kpis[w.kpis["channel"].isin(["organic_search", "direct", "referral"])]
    fit = fit_baselines(free, w.as_of, s)
    index_rows = seasonal_index_rows(w.index, w.kpis["channel"].unique(), w.as_of, "v")
    forecasts = pd.concat([fit.forecast, index_rows], ignore_index=True)
    return w, forecasts


def true_expected(w, budget: dict[str, float]) -> dict[str, float]:
    """What the simulator's truth expects per paid channel over the period for the budget
    phased like the plan does: true curve, true demand index, true carried-in adstock."""
    world = w.truth.world
    days = [w.as_of + timedelta(days=i + 1) for i in range(PERIOD)]
    idx = np.array([world.index(d) for d in days])
    out = {}
    for channel, amount in budget.items():
        curve = world.curves[channel]
        past = w.kpis.loc[w.kpis["channel"] == channel, "spend"].to_numpy(float)
        carry = float(adstock(past, curve.decay)[-1])
        out[channel] = float(curve.conversions(phase_by_index(amount, idx), idx, carry).sum())
    return out


def last_week(w) -> dict[str, float]:
    recent = w.kpis[w.kpis["date_day"] > w.as_of - timedelta(days=PERIOD)]
    spend = recent.groupby("channel")["spend"].sum()
    return {c: float(spend[c]) for c in w.responses}


def splits(w) -> dict[str, dict[str, float]]:
    base = last_week(w)
    moved = dict(base)
    moved["display"], moved["paid_social"] = (
        base["display"] * 0.5,
        base["paid_social"] + base["display"] * 0.5,
    )
    doubled = {c: 2 * v for c, v in base.items()}
    return {"last week": base, "display to social": moved, "doubled": doubled}


def test_plan_matches_the_true_expected_conversions(planned) -> None:
    """For three budget splits (last week's, half of display moved to social, everything
    doubled), each paid channel's planned conversions are within 10 % of the truth's and the
    plan ranks the splits as the truth does."""
    w, forecasts = planned
    planner = ForwardPlanner(
        w.responses, forecasts, carry_in_adstock(w.kpis, w.responses), w.as_of + timedelta(days=1)
    )
    planned_total, true_total = {}, {}
    for name, budget in splits(w).items():
        plan = planner.plan(budget)
        truth = true_expected(w, budget)
        by_channel = plan.channels.set_index("channel")
        for channel, expected in truth.items():
            got = by_channel.loc[channel, "conversions"]
            assert abs(got / expected - 1) < PLAN_TOLERANCE, (name, channel, got, expected)
        planned_total[name] = by_channel.loc[list(truth), "revenue"].sum()
        true_total[name] = sum(truth[c] * w.truth.curves[c].value_per_conversion for c in truth)
    assert sorted(planned_total, key=planned_total.get) == sorted(true_total, key=true_total.get)


def test_plan_adds_baseline_demand_and_gives_intervals(planned) -> None:
    """Totals are paid response plus the spend-free channels' baselines; every interval
    contains its forecast; more budget never forecasts less revenue."""
    w, forecasts = planned
    budget = last_week(w)
    start = w.as_of + timedelta(days=1)
    carry = carry_in_adstock(w.kpis, w.responses)
    plan = forward_plan(budget, w.responses, start, PERIOD, forecasts, carry)
    ch = plan.channels.set_index("channel")
    assert set(ch.index) == set(w.responses) | {"organic_search", "direct", "referral"}
    assert (ch.loc[["organic_search", "direct", "referral"], "source"] == "baseline").all()
    assert plan.conversions == pytest.approx(ch["conversions"].sum())
    assert plan.total["spend"] == pytest.approx(sum(budget.values()))
    for metric in ("conversions", "revenue"):
        assert (ch[f"{metric}_lower"] <= ch[metric]).all() and (
            ch[metric] <= ch[f"{metric}_upper"]
        ).all()
        assert plan.total[f"{metric}_lower"] < plan.total[metric] < plan.total[f"{metric}_upper"]
    # Baseline demand forecast vs the truth's expected spend-free conversions: within 10 %.
    world = w.truth.world
    days = [start + timedelta(days=i) for i in range(PERIOD)]
    true_free = sum(level * world.index(d) for d in days for level in (22.0, 14.0, 5.0))
    free = ch.loc[["organic_search", "direct", "referral"], "conversions"].sum()
    assert abs(free / true_free - 1) < 0.10, (free, true_free)
    assert len(plan.daily) == PERIOD * len(ch)
    more = forward_plan(
        {c: v * 1.2 for c, v in budget.items()}, w.responses, start, PERIOD, forecasts, carry
    )
    assert more.revenue > plan.revenue
    assert (plan.channels.dropna(subset=["marginal_roi"])["marginal_roi"] > 0).all()


def test_a_daily_path_equal_to_the_phasing_gives_the_same_plan(planned) -> None:
    """A period amount is phased by the demand index; passing that path explicitly is the same."""
    w, forecasts = planned
    start = w.as_of + timedelta(days=1)
    idx = forecasts[(forecasts["metric"] == "seasonal_index") & (forecasts["channel"] == "display")]
    path = phase_by_index(7000.0, idx.sort_values("date_day")["yhat"].to_numpy())
    a = forward_plan({"display": 7000.0}, w.responses, start, PERIOD, forecasts)
    b = forward_plan({"display": list(path)}, w.responses, start, PERIOD, forecasts)
    pd.testing.assert_frame_equal(a.channels, b.channels)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"tv": 100.0}, "no response curve"),
        ({"display": -5.0}, "negative"),
        ({"display": [1.0, 2.0]}, "daily path of 2 days"),
    ],
)
def test_bad_budgets_are_refused_with_a_reason(planned, budget, message) -> None:
    w, forecasts = planned
    with pytest.raises(ValueError, match=message):
        forward_plan(budget, w.responses, w.as_of + timedelta(days=1), PERIOD, forecasts)


def test_a_period_the_baselines_do_not_cover_is_refused(planned) -> None:
    w, forecasts = planned
    with pytest.raises(ValueError, match="does not cover"):
        forward_plan({}, w.responses, w.as_of + timedelta(days=3), PERIOD, forecasts)


def test_planner_reads_the_stored_tables(planned) -> None:
    """From agent.forecasts and agent.response_curves rows, the planner plans the days after
    the as-of day with the curves stored there."""
    w, forecasts = planned
    curves = response_frame(w.responses, w.as_of, "v")
    planner = ForwardPlanner.from_tables(w.kpis, forecasts, curves, w.as_of)
    assert planner.start == w.as_of + timedelta(days=1)
    direct = forward_plan(
        last_week(w),
        w.responses,
        planner.start,
        PERIOD,
        forecasts,
        carry_in_adstock(w.kpis, w.responses),
    )
    assert planner.plan(last_week(w)).revenue == pytest.approx(direct.revenue)
