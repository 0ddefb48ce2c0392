"""One day's turn (`decide`) on warehouse-shaped frames: last period's spend and the carry-in
come from the KPIs, phasing from the forecast's seasonal index, campaign rows when the
policy asks for them, content from the graph candidates; guardrails hold throughout."""

from __future__ import annotations

import json
from dataclasses import replace

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


def _test_row(decision_id: str, status: str, as_of: str, **test) -> dict:
    return {
        "decision_id": decision_id,
        "action_type": "incrementality_test",
        "channel": "display",
        "status": status,
        "as_of": as_of,
        "created_at": f"{as_of}T08:00:00",
        "rationale": json.dumps({"test": {"design": decision_id, **test}}),
    }


def test_a_test_moves_the_realised_spend_not_the_budget(policies) -> None:
    """An executed holdout stops spend the period's plan had (its EUR stays in the period's
    budget) and a spend-up adds spend on top of it: with ``total_budget: keep_last_period``
    the next plan keeps the planned total and measures its shift caps from the planned split,
    not from what the test left or added. Without it, each holdout would shrink every later
    period's budget."""
    import pandas as pd

    from marketing_ops.decisioning import executed_test_spend

    start = pd.Timestamp(AS_OF) - pd.Timedelta(days=6)
    geo = {"kind": "geo", "start": str(start.date()), "end": str(AS_OF), "schedule": []}
    rows = [
        # proposed, then executed: one test, counted once
        _test_row("T-1", "proposed", "2026-11-01", **geo, spend_removed=700.0),
        _test_row("T-1", "executed", "2026-11-02", **geo, spend_removed=700.0),
        _test_row("T-2", "proposed", "2026-11-02", **geo, spend_removed=9e9),  # never ran
        _test_row(
            "T-3",
            "executed",
            "2026-11-02",
            kind="pulse",
            start=str((start - pd.Timedelta(days=7)).date()),
            end=str(AS_OF),
            schedule=[False, True],
            direction="spend_up",
            spend_added=1400.0,
        ),
    ]
    moved = executed_test_spend(pd.DataFrame(rows))
    # the holdout's 700 EUR evenly over its seven days; the spend-up's 1,400 over its on
    # flight only (the second week, the same days): nothing in its first week
    assert sorted(moved["amount"].round(6).unique()) == [-100.0, 200.0]
    by_day = moved.groupby("date_day")["amount"].sum()
    assert len(by_day) == 7 and (pd.to_datetime(by_day.index) >= start).all()
    assert by_day.to_numpy() == pytest.approx([100.0] * 7)

    base = inputs()
    planned = decide(AS_OF, base, policies, AutonomyState(), SIGNALS).plan
    # the same week with the tests run: display spent 100 EUR a day less, then 200 more
    kpis = base.kpis.copy()
    last_week = pd.to_datetime(kpis["date_day"]) >= start
    display = last_week & (kpis["channel"] == "display")
    kpis.loc[display, "spend"] += 200.0 - 100.0
    ran = replace(base, kpis=kpis)
    ratchet = decide(AS_OF, ran, policies, AutonomyState(), SIGNALS).plan
    assert ratchet.total_budget == pytest.approx(planned.total_budget + 7 * 100.0)
    kept = decide(AS_OF, replace(ran, test_spend=moved), policies, AutonomyState(), SIGNALS).plan
    assert kept.total_budget == pytest.approx(planned.total_budget)
    assert kept.total_spend == pytest.approx(planned.total_spend)


def test_a_geo_holdout_moves_what_its_geos_would_have_spent_under_the_plan_of_each_week() -> None:
    """The plan is re-decided while a geo holdout runs: the spend it keeps from its treated
    geos is the share they would have had of what the plan spent (read from the realised
    spend of the others), not the design's first-day figure. Display: 300 EUR a day spent in
    the 60 % outside the test, so the plan was 500 a day whatever the design said (9,000)."""
    import pandas as pd

    from marketing_ops.decisioning import executed_test_spend
    from marketing_ops.decisioning.decide import last_period_spend

    start = pd.Timestamp(AS_OF) - pd.Timedelta(days=6)
    geo = {"kind": "geo", "start": str(start.date()), "end": str(AS_OF), "schedule": []}
    held = _test_row(
        "T-9", "executed", "2026-11-02", **geo, spend_removed=9000.0, treated_share=0.4
    )
    moved = executed_test_spend(pd.DataFrame([held]))
    assert moved["held_share"].tolist() == [0.4] * 7
    days = pd.date_range(start, AS_OF, freq="D").date
    kpis = pd.DataFrame({"date_day": days, "channel": "display", "spend": 300.0})
    assert last_period_spend(kpis, AS_OF, 7, moved)["display"] == pytest.approx(7 * 500.0)
    # a row recorded before the share was kept: the design's amount, as before
    old = executed_test_spend(pd.DataFrame([{**held, "rationale": held["rationale"].replace(
        '"treated_share": 0.4', '"treated_share": null')}]))  # fmt: skip
    assert last_period_spend(kpis, AS_OF, 7, old)["display"] == pytest.approx(7 * 300.0 + 9000.0)
