"""One day's turn (`decide`) on warehouse-shaped frames: last period's spend and the carry-in
come from the KPIs, phasing from the forecast's seasonal index, campaign rows when the
policy asks for them, content from the graph candidates; guardrails hold throughout."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.decisioning import AutonomyState, DecisionInputs, decide
from marketing_ops.forecasting.curves import ResponseCurve

from .world import AS_OF, SIGNALS, make_candidates

CURVES = {
    "paid_search": ResponseCurve("paid_search", 0.3, 400.0, 1.0, 60.0, 80.0),
    "paid_social": ResponseCurve("paid_social", 0.5, 300.0, 0.8, 40.0, 70.0),
    "display": ResponseCurve("display", 0.6, 500.0, 1.0, 20.0, 60.0),
}
DAILY = {"paid_search": 400.0, "paid_social": 300.0, "display": 200.0}
WEEK = [1.2, 1.0, 0.9, 0.9, 1.0, 1.1, 0.9]


def inputs() -> DecisionInputs:
    days = [AS_OF - timedelta(days=d) for d in range(59, -1, -1)]
    kpis = pd.DataFrame(
        [
            (pd.Timestamp(d), c, DAILY.get(c, 0.0), 10.0, 10.0 * (80 if c == "email" else 70))
            for d in days
            for c in (*DAILY, "email")
        ],
        columns=["date_day", "channel", "spend", "conversions", "revenue"],
    )
    curve_rows = pd.DataFrame(
        [
            {"as_of": AS_OF, "channel": c, "draw": k, **cv.to_dict()}
            | {"max_response": cv.max_response * f}
            for c, cv in CURVES.items()
            for k, f in enumerate([1.0, *np.linspace(0.85, 1.15, 9)])
        ]
    )
    forecasts = pd.DataFrame(
        [
            (AS_OF, c, "seasonal_index", AS_OF + timedelta(days=1 + i), w)
            for c in CURVES
            for i, w in enumerate(WEEK)
        ],
        columns=["as_of", "channel", "metric", "date_day", "yhat"],
    )
    hours = pd.DataFrame(
        [("loyal_customers", 9, 500, 60), ("loyal_customers", 19, 500, 30)],
        columns=["audience_id", "hour_of_day", "opens", "clicks"],
    )
    ad_spend = pd.DataFrame(
        [
            (d, "paid_search", cid, DAILY["paid_search"] * share)
            for d in days
            for cid, share in (("S1", 0.5), ("S2", 0.5))
        ],
        columns=["date_day", "channel", "campaign_id", "spend"],
    )
    conversions = pd.DataFrame(
        [(d, "paid_search", "S1" if k < 3 else "S2", 80.0) for d in days for k in range(10)],
        columns=["date_day", "channel", "campaign_id", "revenue"],
    )
    return DecisionInputs(
        kpis, curve_rows, forecasts, hours, make_candidates(), ad_spend, conversions
    )


def test_budget_follows_kpis_policy_and_seasonality(policies) -> None:
    """Budget rows per curve channel, within max shift of last week's measured spend, total
    kept, phased by the seasonal index, with profit and interval in the rationale."""
    result = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS)
    budget = result.batch[result.batch["action_type"] == "budget_allocation"]
    assert set(budget["channel"]) == set(CURVES)
    assert budget["amount"].sum() == pytest.approx(7 * sum(DAILY.values()), rel=1e-6)
    for row in budget.to_dict("records"):
        last = 7 * DAILY[row["channel"]]
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
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
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
    channel_batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    batch = decide(AS_OF, inputs(), campaign, AutonomyState(), SIGNALS).batch
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
