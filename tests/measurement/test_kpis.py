"""KPIs per decision, policy, channel and day on a hand-made example: every expected number
below can be checked on paper."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from marketing_ops.measurement.kpis import decision_days, kpi_rollup, uplift_vs_holdout


def _d(did, action_type, channel, status, scheduled_for, policy, phasing=None, created=0):
    return {
        "decision_id": did,
        "batch_id": f"B-{did}",
        "policy_version": policy,
        "action_type": action_type,
        "channel": channel,
        "audience_id": "loyal_customers" if channel == "email" else None,
        "asset_id": "A001" if channel == "email" else None,
        "scheduled_for": scheduled_for,
        "status": status,
        "rationale": json.dumps({"phasing": phasing or []}),
        "created_at": pd.Timestamp("2026-11-01") + pd.Timedelta(hours=created),
    }


def _phase(*days):
    return [{"date": d, "amount": 100.0} for d in days]


DECISIONS = pd.DataFrame(
    [
        # search plan for 1-3 Nov, superseded on 3 Nov by a newer plan (S2) for 3-4 Nov
        _d(
            "S1",
            "budget_allocation",
            "paid_search",
            "executed",
            "2026-11-01",
            "p1",
            _phase("2026-11-01", "2026-11-02", "2026-11-03"),
        ),
        _d(
            "S2",
            "budget_allocation",
            "paid_search",
            "executed",
            "2026-11-03",
            "p2",
            _phase("2026-11-03", "2026-11-04"),
            created=48,
        ),
        # a display plan that was never executed: measured nowhere
        _d(
            "X1",
            "budget_allocation",
            "display",
            "pending_approval",
            "2026-11-01",
            "p1",
            _phase("2026-11-01", "2026-11-02"),
        ),
        _d("E1", "content_selection", "email", "executed", "2026-11-02T09:00:00", "p1"),
    ]
)
KPIS = pd.DataFrame(
    [
        # date, channel, spend, conversions, revenue, won, lost
        ("2026-11-01", "paid_search", 100.0, 4.0, 400.0, 1.0, 1.0),
        ("2026-11-02", "paid_search", 100.0, 2.0, 150.0, 0.0, 2.0),
        ("2026-11-03", "paid_search", 200.0, 5.0, 600.0, 2.0, 0.0),
        ("2026-11-04", "paid_search", 200.0, 0.0, 0.0, 0.0, 0.0),
        ("2026-11-01", "display", 50.0, 1.0, 60.0, 0.0, 0.0),
        ("2026-11-02", "email", 3.0, 3.0, 90.0, 1.0, 0.0),
        ("2026-11-03", "email", 3.0, 1.0, 30.0, 0.0, 0.0),
    ],
    columns=["date_day", "channel", "spend", "conversions", "revenue", "deals_won", "deals_lost"],
)
CONVERSIONS = pd.DataFrame(
    [
        # conversion_id, date, decision_id, type, revenue
        ("c1", "2026-11-01", "S1", "online_purchase", 100.0),
        ("c2", "2026-11-03", "S2", "online_purchase", 250.0),
        ("c3", "2026-11-02", "E1", "online_purchase", 40.0),
        ("c4", "2026-11-03", "E1", "deal_won", 30.0),
        ("c5", "2026-11-02", None, "online_purchase", 50.0),  # untagged: nobody's
    ],
    columns=["conversion_id", "date_day", "decision_id", "conversion_type", "revenue"],
)


@pytest.fixture
def daily() -> pd.DataFrame:
    return decision_days(DECISIONS, KPIS, CONVERSIONS)


def test_each_channel_day_has_one_owner(daily) -> None:
    """S1 owns 1-2 Nov, the newer S2 owns 3-4 Nov; the pending display plan owns nothing;
    the email send is measured on the days its tagged conversions happened."""
    got = {(r.decision_id, str(r.date_day.date())) for r in daily.itertuples()}
    assert got == {
        ("S1", "2026-11-01"),
        ("S1", "2026-11-02"),
        ("S2", "2026-11-03"),
        ("S2", "2026-11-04"),
        ("E1", "2026-11-02"),
        ("E1", "2026-11-03"),
    }


def test_kpis_per_decision(daily) -> None:
    """S1: spend 200, 6 conversions, revenue 550 -> CAC 33.33, ROAS 2.75, won 1 of 4 deals;
    S2: spend 400, 5 conversions, 600 -> CAC 80, ROAS 1.5, won 2 of 2;
    E1: tagged only: 2 conversions, revenue 70, no spend, lost deals unknown."""
    k = kpi_rollup(daily, "decision_id").set_index("decision_id")
    assert k.loc["S1", ["spend", "conversions", "revenue"]].tolist() == [200, 6, 550]
    assert k.loc["S1", "cac"] == pytest.approx(200 / 6)
    assert k.loc["S1", "roas"] == pytest.approx(2.75)
    assert k.loc["S1", "win_rate"] == pytest.approx(1 / 4)
    assert k.loc["S1", "tagged_revenue"] == 100
    assert (k.loc["S2", "cac"], k.loc["S2", "roas"], k.loc["S2", "win_rate"]) == (80, 1.5, 1.0)
    assert k.loc["E1", ["conversions", "revenue", "deals_won"]].tolist() == [2, 70, 1]
    assert math.isnan(k.loc["E1", "roas"]) and math.isnan(k.loc["E1", "win_rate"])
    assert k.loc["S2", "profit"] == 200


@pytest.mark.parametrize(
    ("by", "key", "revenue", "spend"),
    [
        ("policy_version", "p1", 620.0, 200.0),  # S1 550 + E1 70
        ("policy_version", "p2", 600.0, 400.0),
        ("channel", "paid_search", 1150.0, 600.0),
        ("channel", "email", 70.0, 0.0),
        ("date_day", pd.Timestamp("2026-11-03"), 630.0, 200.0),  # S2 600 + E1 30
    ],
)
def test_kpis_per_policy_channel_and_day(daily, by, key, revenue, spend) -> None:
    k = kpi_rollup(daily, by).set_index(by)
    assert k.loc[key, "revenue"] == revenue and k.loc[key, "spend"] == spend
    assert k.loc[key, "decisions"] >= 1


def test_uplift_against_holdout() -> None:
    """Per arm, mean outcome minus the holdout's, with an interval that holds it."""
    rng = np.random.default_rng(0)
    units = pd.DataFrame(
        {
            "arm": ["holdout"] * 400 + ["p1"] * 400 + ["p2"] * 400,
            "outcome": np.concatenate(
                [rng.normal(1.0, 1, 400), rng.normal(1.5, 1, 400), rng.normal(1.0, 1, 400)]
            ),
        }
    )
    u = uplift_vs_holdout(units).set_index("treatment")
    assert u.loc["p1", "ci_lower"] > 0 and u.loc["p1", "difference"] == pytest.approx(0.5, abs=0.2)
    assert u.loc["p2", "ci_lower"] < 0 < u.loc["p2", "ci_upper"]
