"""Identity stitching, journeys, touchpoints and the attribution mart on the raw world of
world.py (built with a one-day lookback), checked against numbers worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from .world import DAY1, DAY2, DAY3, K1, K2, read_mart

METHODS = [
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
]


def _rows(db, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_identity_links_by_login_and_by_click(built_warehouse) -> None:
    """u2 logged in as C2 (GA4 user_id) on day 2; u1's Google click G1 is on DEAL1 of K1,
    known when the deal closed on day 2. Browsers without evidence stay anonymous."""
    links = _rows(
        built_warehouse.db,
        "select user_pseudo_id, person_id, cast(linked_on as varchar) as linked_on, link_source "
        "from intermediate.int_identity__links order by user_pseudo_id",
    )
    assert [tuple(r) for r in links.itertuples(index=False)] == [
        ("u1", K1, DAY2.isoformat(), "gclid"),
        ("u2", K2, DAY2.isoformat(), "login"),
    ]


def test_journeys_end_in_each_conversion_once(built_warehouse) -> None:
    """Every conversion has exactly one journey, on its conversion day; u5's lone Meta click
    is a journey without conversion that ended a lookback (one day) later."""
    journeys = read_mart(built_warehouse.db, "marts.fct_journeys", "journey_id").set_index(
        "journey_id"
    )
    conversions = read_mart(built_warehouse.db, "marts.fct_conversions", "conversion_id")
    converted = journeys[journeys["is_converted"]]
    assert sorted(converted["conversion_id"]) == sorted(conversions["conversion_id"])
    assert (converted.index == converted["conversion_id"]).all()
    assert dict(
        zip(conversions["conversion_id"], conversions["date_day"].dt.date, strict=True)
    ) == {c: d.date() for c, d in converted["date_day"].items()}
    lapsed = journeys.loc["lapsed:u5:5"]
    assert (not lapsed["is_converted"], lapsed["path"], lapsed["date_day"].date()) == (
        True,
        "paid_social",
        DAY2,
    )


def test_paths_follow_the_visits_in_order(built_warehouse) -> None:
    """T1: display at 08:00, then the paid-search visit it was bought in. T2: u2's organic
    visit the evening before, anonymous then, belongs to C2 as of the purchase day. DEAL3 was
    never seen by web analytics: its CRM origin (email, at creation) is its touch."""
    journeys = read_mart(built_warehouse.db, "marts.fct_journeys", "journey_id").set_index(
        "journey_id"
    )
    assert journeys.loc["purchase:T1", "path"] == "display > paid_search"
    assert journeys.loc["purchase:T2", "path"] == "organic_search > email"
    assert journeys.loc["purchase:T2", "person_id"] == K2
    assert journeys.loc["deal:DEAL3", "path"] == "email"
    touches = read_mart(built_warehouse.db, "marts.fct_touchpoints", "journey_id, touch_position")
    deal3 = touches[touches["journey_id"] == "deal:DEAL3"].iloc[0]
    assert (deal3["touch_type"], deal3["touch_id"]) == ("conversion_origin", "origin:deal:DEAL3")
    t2_first = touches[(touches["journey_id"] == "purchase:T2")].iloc[0]
    assert (t2_first["touch_id"], t2_first["channel"]) == ("u2:21", "organic_search")


def test_rule_based_credits_of_a_two_touch_journey(built_warehouse) -> None:
    """T1's display touch came 2 h 5 min before the purchase, its search visit 5 min before:
    first touch all to display, last touch all to search, linear and position-based half
    each, time decay (half-life 7 days) slightly more to the later touch."""
    touches = read_mart(built_warehouse.db, "marts.fct_touchpoints", "journey_id, touch_position")
    t1 = touches[touches["journey_id"] == "purchase:T1"].set_index("channel")
    assert t1["first_touch_credit"].to_dict() == {"display": 1.0, "paid_search": 0.0}
    assert t1["last_touch_credit"].to_dict() == {"display": 0.0, "paid_search": 1.0}
    assert t1["linear_credit"].to_dict() == {"display": 0.5, "paid_search": 0.5}
    assert t1["position_based_credit"].to_dict() == {"display": 0.5, "paid_search": 0.5}
    later = 0.5 ** ((125 - 5) / (60 * 24) / 7)  # display's weight relative to search's
    assert t1.loc["display", "time_decay_credit"] == pytest.approx(later / (1 + later))
    converted = touches[touches["is_converted"]]
    for method in METHODS[:5]:
        per_journey = converted.groupby("journey_id")[f"{method}_credit"].sum()
        assert per_journey.to_numpy() == pytest.approx(1.0), method


def test_each_method_sums_to_the_days_conversions(built_warehouse) -> None:
    """The mart's seven columns each add up, per day, to the conversions of that day."""
    mart = read_mart(built_warehouse.db, "marts.fct_attribution_daily", "date_day, channel")
    per_day = mart.groupby(mart["date_day"].dt.date)[["conversions", *METHODS]].sum()
    assert per_day["conversions"].to_dict() == {DAY1: 1, DAY2: 2, DAY3: 2}
    for method in METHODS:
        assert per_day[method].to_numpy() == pytest.approx(per_day["conversions"].to_numpy())
    day1 = mart[mart["date_day"].dt.date == DAY1].set_index("channel")
    assert (day1.loc["display", "first_touch"], day1.loc["display", "conversions"]) == (1.0, 0)
    assert day1.loc["paid_search", "last_touch_revenue"] == 100.0


def test_data_driven_weights_split_each_set(built_warehouse) -> None:
    """One weight row per channel of each converting channel set, shares summing to 1."""
    weights = _rows(built_warehouse.db, "select * from attribution.data_driven_weights")
    sums = weights.groupby(["date_day", "channel_set"])[["markov", "shapley"]].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert set(weights["channel_set"]) == {
        "display|paid_search",
        "email|organic_search",
        "paid_search",
        "email",
    }
