"""Scoring candidate actions: hand-checkable expectations, intervals that bracket them, the
send hour's lift, and Thompson probabilities that match Monte Carlo without its noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketing_ops.decisioning import (
    bounded_propensities,
    candidate_actions,
    hour_lifts,
    score_actions,
    thompson_probabilities,
    value_per_conversion,
)
from marketing_ops.decisioning.content.bandit import grouped_bounded_propensities

ARMS = pd.DataFrame(
    [
        # audience, asset, channel, size, sends, clicks, conversions
        ("loyal", "A1", "email", 100, 1000, 60, 10),
        ("loyal", "A2", "email", 100, 1000, 40, 0),
        ("new", "A1", "email", 50, 0, 0, 0),
    ],
    columns=[
        "audience_id",
        "asset_id",
        "channel",
        "consented_size",
        "sends",
        "clicks",
        "conversions",
    ],
)
HOURS = pd.DataFrame(
    [("loyal", 8, 400, 40), ("loyal", 18, 400, 20)],
    columns=["audience_id", "hour_of_day", "opens", "clicks"],
)


def test_expected_values_by_hand() -> None:
    """Pooled prior 100 clicks / 2000 sends = 5% worth 50 sends: A1 has (2.5 + 60) /
    (50 + 1000) = 5.95% per send; at lift 1 that is 5.95 clicks from 100 contacts, and
    conversions 100 * (0.25 + 10)/1050; revenue at 80 EUR each, profit minus 0.002 EUR a send."""
    actions = pd.DataFrame({"arm": [0], "hour": [10], "lift": [1.0]})
    s = score_actions(ARMS, actions, 50.0, {"email": 80.0}, 0.002).iloc[0]
    assert s["expected_ctr"] == pytest.approx(62.5 / 1050)
    assert s["expected_clicks"] == pytest.approx(100 * 62.5 / 1050)
    assert s["expected_conversions"] == pytest.approx(100 * 10.25 / 1050)
    assert s["expected_revenue"] == pytest.approx(80 * 100 * 10.25 / 1050)
    assert s["cost"] == pytest.approx(0.2)
    assert s["expected_profit"] == pytest.approx(s["expected_revenue"] - 0.2)


def test_intervals_bracket_expectations_and_profit_follows_revenue() -> None:
    """Every 90% interval contains its expectation; profit's is revenue's minus the cost."""
    lifts = hour_lifts(HOURS)
    actions = candidate_actions(ARMS, lifts, default_hour=10)
    s = score_actions(ARMS, actions, 50.0, 80.0, 0.002)
    for name in ("ctr", "conversions", "revenue", "profit"):
        exp = s["expected_ctr" if name == "ctr" else f"expected_{name}"]
        assert (s[f"{name}_lower"] <= exp + 1e-12).all() and (
            exp <= s[f"{name}_upper"] + 1e-12
        ).all()
    assert np.allclose(s["profit_lower"], s["revenue_lower"] - s["cost"])
    assert np.allclose(s["profit_upper"], s["revenue_upper"] - s["cost"])


def test_slots_follow_the_audience_hours() -> None:
    """An audience with hourly history gets those hours as slots, the better one scoring more
    clicks; one without history gets the default hour only, at lift 1."""
    lifts = hour_lifts(HOURS)
    actions = candidate_actions(ARMS, lifts, default_hour=10)
    assert sorted(actions.loc[actions["arm"] == 0, "hour"]) == [8, 18]
    assert actions.loc[actions["arm"] == 2, ["hour", "lift"]].values.tolist() == [[10, 1.0]]
    s = pd.concat([actions, score_actions(ARMS, actions, 50.0, None, 0.0)], axis=1)
    a1 = s[s["arm"] == 0].set_index("hour")
    assert a1.loc[8, "expected_clicks"] > a1.loc[18, "expected_clicks"]
    # smoothed rates: (40 + 50 * 0.075) / 450 and (20 + 3.75) / 450 over the average 60/800
    assert a1.loc[8, "expected_clicks"] / a1.loc[18, "expected_clicks"] == pytest.approx(
        43.75 / 23.75
    )
    assert np.isnan(s["expected_revenue"]).all()  # no value per conversion: no revenue


def test_value_per_conversion_uses_recent_days() -> None:
    """Revenue over conversions per channel, over the last N days only."""
    kpis = pd.DataFrame(
        {
            "date_day": pd.to_datetime(["2026-01-01", "2026-03-30", "2026-03-31", "2026-03-31"]),
            "channel": ["email", "email", "email", "display"],
            "revenue": [1e6, 100.0, 300.0, 0.0],
            "conversions": [1, 2, 2, 0],
        }
    )
    assert value_per_conversion(kpis, days=30) == {"email": 100.0}


@pytest.mark.parametrize("seed", range(6))
def test_thompson_probabilities_match_monte_carlo(seed: int) -> None:
    """Quadrature on the log-odds scale agrees with 200,000 posterior draws within 0.01, for
    groups mixing data-rich arms, new arms and a single-arm group."""
    rng = np.random.default_rng(seed)
    sizes = [1, 2, 5, 9]
    group = np.repeat(np.arange(len(sizes)), sizes)
    n = len(group)
    sends = rng.choice([0, 30, 400, 5000], size=n)
    rate = rng.uniform(0.01, 0.08, n)
    a = 1.5 + sends * rate
    b = 48.5 + sends * (1 - rate)
    p = thompson_probabilities(group, a, b)
    draws = rng.beta(a[:, None], b[:, None], size=(n, 200_000))
    for g in range(len(sizes)):
        m = group == g
        wins = np.bincount(draws[m].argmax(axis=0), minlength=m.sum()) / draws.shape[1]
        assert p[m].sum() == pytest.approx(1.0)
        assert np.abs(p[m] - wins).max() < 0.01, (p[m], wins)


def test_grouped_bounds_equal_the_single_group_rule() -> None:
    """Bounding many audiences at once gives exactly what bounding each alone gives."""
    rng = np.random.default_rng(3)
    sizes = [1, 2, 3, 6, 4]
    group = np.repeat(np.arange(len(sizes)), sizes)
    raw = rng.dirichlet(np.ones(len(group)))
    together = grouped_bounded_propensities(group, raw, 0.05, 0.2)
    for g in range(len(sizes)):
        m = group == g
        assert together[m] == pytest.approx(bounded_propensities(raw[m], 0.05, 0.2))
        assert together[m].sum() == pytest.approx(1.0)
