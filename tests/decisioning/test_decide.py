"""One day's turn (`decide`) on warehouse-shaped frames: last period's spend and the carry-in
come from the KPIs, phasing from the forecast's seasonal index, campaign rows when the
policy asks for them, content from the graph candidates; guardrails hold throughout."""

from __future__ import annotations

import json

import numpy as np
import pytest
from worlds.decisions import AS_OF, CURVES, DAILY_SPEND, SIGNALS, WEEK, inputs

from marketing_ops.decisioning import AutonomyState, decide


def test_budget_follows_kpis_policy_and_seasonality(policies) -> None:
    """Budget rows per curve channel, within max shift of last week's measured spend, total
    kept, phased by the seasonal index, with profit and interval in the rationale."""
    result = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS)
    budget = result.batch[result.batch["action_type"] == "budget_allocation"]
    assert set(budget["channel"]) == set(CURVES)
    assert budget["amount"].sum() == pytest.approx(7 * sum(DAILY_SPEND.values()), rel=1e-6)
    for row in budget.to_dict("records"):
        last = 7 * DAILY_SPEND[row["channel"]]
        assert 0.7 * last - 1e-6 <= row["amount"] <= 1.3 * last + 1e-6
        r = json.loads(row["rationale"])
        phasing = [p["amount"] for p in r["phasing"]]
        assert np.array(phasing) / sum(phasing) == pytest.approx(
            np.array(WEEK) / sum(WEEK), abs=1e-4
        )
        assert r["scores"]["expected_profit"] == pytest.approx(
            row["expected_revenue"] - row["amount"], abs=0.01
        )
        lo, hi = r["scores"]["profit_interval"]
        assert lo < r["scores"]["expected_profit"] < hi
    assert result.plan.total_spend == pytest.approx(budget["amount"].sum())


def test_content_is_chosen_with_revenue_and_best_hour(policies) -> None:
    """Content rows carry revenue from the measured value per conversion (80 EUR on email),
    and the audience with hourly history is sent at its better hour."""
    batch = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS).batch
    content = batch[batch["action_type"] == "content_selection"].set_index("audience_id")
    for row in content.to_dict("records"):
        assert row["expected_revenue"] == pytest.approx(80.0 * row["expected_conversions"])
    assert content.loc["loyal_customers", "scheduled_for"].endswith("T09:00:00")
    send = batch[
        (batch["action_type"] == "send_time") & (batch["audience_id"] == "loyal_customers")
    ]
    alt = json.loads(send["rationale"].iloc[0])["alternatives"][0]
    assert alt["description"].startswith("send at 19:00") and alt["difference"] > 0


def test_campaign_level_policy_gives_campaign_rows(policies) -> None:
    """plan_level campaign: paid_search becomes one row per campaign (S2 converts better and
    gains), their sum is the channel's planned amount; channels without campaign data keep a
    channel row."""
    budget_policy = policies.budget.model_copy(update={"plan_level": "campaign"})
    campaign = policies.model_copy(update={"budget": budget_policy})
    channel_batch = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS).batch
    batch = decide(AS_OF, inputs(campaigns=True), campaign, AutonomyState(), SIGNALS).batch
    rows = batch[batch["action_type"] == "budget_allocation"]
    search = rows[rows["channel"] == "paid_search"].set_index("campaign_id")
    assert set(search.index) == {"S1", "S2"}
    channel_search = channel_batch[
        (channel_batch["action_type"] == "budget_allocation")
        & (channel_batch["channel"] == "paid_search")
    ]["amount"].item()
    assert search["amount"].sum() == pytest.approx(channel_search, rel=1e-6)
    assert search.loc["S2", "amount"] > search.loc["S1", "amount"]
    assert rows[rows["channel"] != "paid_search"]["campaign_id"].isna().all()
    assert search.loc["S2", "decision_id"] not in set(channel_batch["decision_id"])
