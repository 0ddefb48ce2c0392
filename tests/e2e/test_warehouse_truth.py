"""The warehouse against the simulator's ground truth: no business conversion is lost or
counted twice across GA4, the CRM and the offline import, and every attribution method
credits each of them exactly once."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_ops.simulator import load_ground_truth
from marketing_ops.warehouse import connect

METHODS = [
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
]


def test_fct_conversions_equals_true_business_conversions(flow_world) -> None:
    """Exactly equal in total, and per day and channel (a purchase is in GA4 once, a won deal
    in the CRM and, when it came from a Google click, in the offline import too)."""
    truth = load_ground_truth(flow_world.home)
    expected_total = truth.business_conversions(flow_world.start, flow_world.end)
    days = truth.daily[
        (truth.daily["date"] >= flow_world.start.isoformat())
        & (truth.daily["date"] <= flow_world.end.isoformat())
    ]
    expected = days.groupby(["date", "channel"])["conversions"].sum()
    expected = expected[expected > 0]
    with connect(flow_world.home.warehouse, read_only=True) as con:
        measured = con.execute(
            "select cast(date_day as varchar) as date, channel, count(*) as conversions "
            "from marts.fct_conversions where date_day between ? and ? group by all",
            [flow_world.start, flow_world.end],
        ).df()
    measured = measured.set_index(["date", "channel"])["conversions"].sort_index()
    assert expected_total > 1000
    assert int(measured.sum()) == expected_total
    pd.testing.assert_series_equal(
        measured, expected.sort_index().astype(measured.dtype), check_names=False
    )


def test_every_attribution_method_credits_each_conversion_once(flow_world) -> None:
    """Per day, each of the seven methods sums to the day's conversions; over the window, to
    the simulator's true count. Multi-touch journeys exist, so the methods differ."""
    truth = load_ground_truth(flow_world.home).business_conversions(
        flow_world.start, flow_world.end
    )
    with connect(flow_world.home.warehouse, read_only=True) as con:
        mart = con.execute(
            "select * from marts.fct_attribution_daily where date_day between ? and ?",
            [flow_world.start, flow_world.end],
        ).df()
        multi_touch = con.execute(
            "select count(*) from marts.fct_journeys where is_converted and channels > 1"
        ).fetchone()[0]
    per_day = mart.groupby("date_day")[["conversions", *METHODS]].sum()
    for method in METHODS:
        assert per_day[method].to_numpy() == pytest.approx(per_day["conversions"].to_numpy())
        assert mart[method].sum() == pytest.approx(truth)
    assert multi_touch > 50
    by_channel = mart.groupby("channel")[METHODS].sum()
    assert not by_channel["first_touch"].equals(by_channel["last_touch"])
