"""Budget moves between campaigns: shares measured from the marts, campaign curves that add
up to their channel's, and a split that keeps channel totals and campaign guardrails."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.decisioning import (
    BudgetPolicy,
    ChannelBounds,
    campaign_curves,
    campaign_shares,
    plan_budget,
    split_by_campaign,
)
from marketing_ops.decisioning.budget.campaigns import (
    SHRINK_CONVERSIONS,
    CampaignShare,
    sampled_shares,
)
from marketing_ops.forecasting.curves import ResponseCurve

AS_OF = date(2026, 11, 23)
SEARCH = ResponseCurve("paid_search", 0.3, 900.0, 1.2, 50.0, 80.0)
SOCIAL = ResponseCurve("paid_social", 0.4, 700.0, 1.0, 30.0, 70.0)


def marts(days: int = 28) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily spend for two search campaigns (60/40) and one social; search conversions
    come 20/80, so the small campaign converts far better than its spend share."""
    spend, conv = [], []
    for d in range(days):
        day = AS_OF - timedelta(days=d)
        spend += [
            (day, "paid_search", "S1", 600.0),
            (day, "paid_search", "S2", 400.0),
            (day, "paid_social", "M1", 500.0),
        ]
        conv += [(day, "paid_search", "S1", 80.0)] * 2 + [(day, "paid_search", "S2", 80.0)] * 8
        conv += [(day, "paid_social", "M1", 70.0)] * 5
    ad = pd.DataFrame(spend, columns=["date_day", "channel", "campaign_id", "spend"])
    conversions = pd.DataFrame(conv, columns=["date_day", "channel", "campaign_id", "revenue"])
    return ad, conversions


def test_shares_are_measured_and_shrunk() -> None:
    """Spend shares from the window, conversion shares pulled towards spend shares by
    SHRINK_CONVERSIONS pseudo-conversions; last period = the plan's period days."""
    ad, conv = marts()
    shares = campaign_shares(ad, conv, AS_OF, history_days=28, period_days=7)
    search = {s.campaign_id: s for s in shares["paid_search"]}
    assert search["S1"].spend_share == pytest.approx(0.6)
    n = 28 * 10
    assert search["S2"].conversion_share == pytest.approx(
        (28 * 8 + SHRINK_CONVERSIONS * 0.4) / (n + SHRINK_CONVERSIONS)
    )
    assert search["S1"].last_amount == pytest.approx(7 * 600.0)
    assert [s.campaign_id for s in shares["paid_social"]] == ["M1"]


@pytest.mark.parametrize("amount", [100.0, 1000.0, 5000.0])
def test_campaign_curves_add_up_to_the_channel_at_the_historical_split(amount: float) -> None:
    """At the campaigns' historical spend shares, their conversions sum to the channel's."""
    shares = [
        CampaignShare("S1", "paid_search", 0.0, 0.6, 0.3, None),
        CampaignShare("S2", "paid_search", 0.0, 0.4, 0.7, None),
    ]
    curves = campaign_curves(SEARCH, shares)
    daily = np.full(7, amount)
    total = sum(curves[s.campaign_id].conversions(daily * s.spend_share).sum() for s in shares)
    assert total == pytest.approx(SEARCH.conversions(daily).sum())


def _plan(policy: BudgetPolicy):
    ad, conv = marts()
    last = {"paid_search": 7000.0, "paid_social": 3500.0}
    curves = {"paid_search": SEARCH, "paid_social": SOCIAL}
    plan = plan_budget(curves, last, {}, {}, policy)
    shares = campaign_shares(ad, conv, AS_OF, 28, 7)
    return plan, split_by_campaign(plan, curves, shares, {}, {}, policy)


def test_split_keeps_channel_totals_and_moves_money_to_the_better_campaign() -> None:
    """Campaign lines sum to their channel's amount; the better-converting S2 gains, within
    the campaign max shift around keeping the split, and each line names its campaign."""
    policy = BudgetPolicy(plan_level="campaign", campaign_max_shift_pct=25)
    plan, split = _plan(policy)
    by_channel = {line.channel: line.amount for line in plan.lines}
    lines = {line.campaign_id: line for line in split.lines}
    assert set(lines) == {"S1", "S2", "M1"}
    assert lines["S1"].amount + lines["S2"].amount == pytest.approx(
        by_channel["paid_search"], rel=1e-6
    )
    assert lines["M1"].amount == pytest.approx(by_channel["paid_social"], rel=1e-6)
    keep_s2 = by_channel["paid_search"] * 0.4
    assert lines["S2"].amount == pytest.approx(keep_s2 * 1.25, rel=1e-6)  # at its max shift
    assert any("keeping the paid_search campaign split" in b for b in lines["S2"].binding)
    assert split.total_spend == pytest.approx(plan.total_spend)
    assert all(line.alternatives for line in split.lines)


def test_campaign_daily_limits_bind() -> None:
    """A campaign cap from the budget policy holds in the split."""
    policy = BudgetPolicy(
        plan_level="campaign",
        campaign_max_shift_pct=100,
        campaigns={"S2": ChannelBounds(max_eur_per_day=450.0)},
    )
    _, split = _plan(policy)
    s2 = next(line for line in split.lines if line.campaign_id == "S2")
    assert s2.amount == pytest.approx(450.0 * 7, rel=1e-6)
    assert any("S2: max 450 EUR/day" in b for b in s2.binding)


def test_locked_channel_keeps_its_campaign_split() -> None:
    """A locked channel's campaigns keep last period's amounts exactly."""
    policy = BudgetPolicy(plan_level="campaign", locked_channels=["paid_search"])
    _, split = _plan(policy)
    lines = {line.campaign_id: line for line in split.lines}
    assert lines["S1"].amount == pytest.approx(4200.0) and lines["S2"].amount == pytest.approx(
        2800.0
    )


def test_closed_loop_spends_the_sum_of_the_latest_plans_campaign_rows(tmp_path) -> None:
    """The simulator executes campaign-level rows as their channel's total, and a newer plan
    replaces an older one covering the same day (rather than adding to it)."""
    from marketing_ops.config import data_home
    from marketing_ops.simulator import WorldConfig, generate_history, load_ground_truth
    from marketing_ops.simulator.market import simulate_outcomes

    home = data_home(tmp_path / "loop").ensure()
    generate_history(home, WorldConfig(seed=3, start=date(2025, 3, 1), days=30, contacts=60))
    start = date(2025, 3, 31)
    rows = [
        ("D-old", start - timedelta(days=1), 70_000.0),  # yesterday's plan, still running
        ("D-s1", start, 4_200.0),
        ("D-s2", start, 2_800.0),
    ]
    executed = pd.DataFrame(
        [
            {
                "decision_id": d,
                "action_type": "budget_allocation",
                "channel": "paid_search",
                "audience_id": None,
                "asset_id": None,
                "scheduled_for": first.isoformat(),
                "amount": amount,
            }
            for d, first, amount in rows
        ]
    )
    simulate_outcomes(home, executed, start, 2)
    daily = load_ground_truth(home).daily
    search = daily[(daily["channel"] == "paid_search") & (daily["date"] >= start.isoformat())]
    assert search["spend"].tolist() == pytest.approx([1_000.0, 1_000.0])


def test_thin_campaign_data_pools_to_the_channel_curve() -> None:
    """With much pooling a campaign's curve is its channel's at its spend share; with none,
    its measured conversion share; the policy's setting decides."""
    ad, conv = marts()
    pooled = campaign_shares(ad, conv, AS_OF, 28, 7, pooling=1e9)["paid_search"]
    raw = campaign_shares(ad, conv, AS_OF, 28, 7, pooling=0.0)["paid_search"]
    for p, r in zip(pooled, raw, strict=True):
        assert p.conversion_share == pytest.approx(p.spend_share, abs=1e-6)
        assert r.conversion_share == pytest.approx(r.conversions / 280)
    curves = campaign_curves(SEARCH, pooled)
    daily = np.full(7, 700.0)
    for sh in pooled:  # at its spend share of any amount: the channel's curve, scaled
        got = curves[sh.campaign_id].conversions(daily * sh.spend_share).sum()
        assert got == pytest.approx(SEARCH.conversions(daily).sum() * sh.spend_share, rel=1e-6)
    with pytest.raises(ValueError, match="campaign_pooling_conversions"):
        BudgetPolicy(campaign_pooling_conversions=-1)


def test_campaign_intervals_widen_when_its_data_is_thin() -> None:
    """Sampled conversion shares (Dirichlet: measured + pooled pseudo-conversions) sum to 1,
    centre on the pooled share, and spread more with fewer conversions; the campaign lines'
    revenue intervals follow."""
    ad, conv = marts()
    rich = campaign_shares(ad, conv, AS_OF, 28, 7)["paid_search"]
    thin = [replace(sh, conversions=sh.conversions / 40) for sh in rich]
    for camp in (rich, thin):
        draws = sampled_shares(camp, 4000)
        assert draws.sum(axis=1) == pytest.approx(1.0)
    s_rich, s_thin = sampled_shares(rich, 4000), sampled_shares(thin, 4000)
    assert s_rich.mean(axis=0) == pytest.approx([sh.conversion_share for sh in rich], abs=0.01)
    assert (s_thin.std(axis=0) > 2 * s_rich.std(axis=0)).all()
    policy = BudgetPolicy(plan_level="campaign", campaign_max_shift_pct=25)
    curves = {"paid_search": SEARCH}
    samples = {"paid_search": [SEARCH] * 60}  # the channel curve itself is certain here
    plan = plan_budget(curves, {"paid_search": 7000.0}, {}, {}, policy, samples)
    widths = {}
    for name, camp in (("rich", rich), ("thin", thin)):
        split = split_by_campaign(plan, curves, {"paid_search": camp}, {}, {}, policy, samples)
        line = split.line("S2")
        widths[name] = (line.revenue_upper - line.revenue_lower) / line.expected_revenue
    assert widths["thin"] > 2 * widths["rich"] > 0
