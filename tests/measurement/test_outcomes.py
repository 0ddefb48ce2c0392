"""Measurement on a hand-made example: every number below can be checked on paper."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from marketing_ops.measurement import agent_email_events, decision_outcomes, forecast_error


def _decision(
    decision_id,
    action_type,
    channel,
    status,
    scheduled_for,
    amount,
    expected,
    phasing=None,
    audience=None,
):
    return {
        "decision_id": decision_id,
        "batch_id": "B-20261123-00000000",
        "action_type": action_type,
        "channel": channel,
        "campaign_id": None,
        "audience_id": audience,
        "asset_id": None,
        "scheduled_for": scheduled_for,
        "amount": amount,
        "expected_conversions": 10.0,
        "expected_revenue": expected,
        "status": status,
        "rationale": json.dumps({"phasing": phasing} if phasing else {"alternatives": []}),
    }


DECISIONS = pd.DataFrame(
    [
        _decision(
            "D-b1",
            "budget_allocation",
            "paid_search",
            "executed",
            "2026-11-24",
            700.0,
            1400.0,
            [
                {"date": "2026-11-24", "amount": 200.0},
                {"date": "2026-11-25", "amount": 300.0},
                {"date": "2026-11-26", "amount": 200.0},
            ],
        ),
        _decision(
            "D-p1", "budget_allocation", "display", "pending_approval", "2026-11-24", 300.0, 400.0
        ),
        _decision(
            "D-c1",
            "content_selection",
            "email",
            "executed",
            "2026-11-24T09:00:00",
            math.nan,
            100.0,
            audience="loyal_customers",
        ),
        _decision(
            "D-c2",
            "content_selection",
            "email",
            "executed",
            "2026-11-30T09:00:00",
            math.nan,
            100.0,
            audience="new_visitors",
        ),
    ]
)
KPIS = pd.DataFrame(
    [
        (date(2026, 11, 24), "paid_search", 210.0, 5.0, 500.0),
        (date(2026, 11, 25), "paid_search", 290.0, 7.0, 700.0),
        (date(2026, 11, 24), "display", 999.0, 1.0, 10.0),
        (date(2026, 11, 23), "paid_search", 5000.0, 50.0, 9000.0),
    ],
    columns=["date_day", "channel", "spend", "conversions", "revenue"],
)
CONVERSIONS = pd.DataFrame(
    [
        ("c1", date(2026, 11, 24), "email", "D-c1", 30.0),
        ("c2", date(2026, 11, 25), "email", "D-c1", 50.0),
        ("c3", date(2026, 11, 24), "paid_search", "D-b1", 70.0),
        ("c4", date(2026, 11, 24), "direct", None, 99.0),
    ],
    columns=["conversion_id", "date_day", "channel", "decision_id", "revenue"],
)
EMAIL_EVENTS = pd.DataFrame(
    [
        ("send", "D-c1"),
        ("send", "D-c1"),
        ("send", "D-c1"),
        ("open", "D-c1"),
        ("open", "D-c1"),
        ("click", "D-c1"),
        ("send", "em-20261120-loyal"),
    ],
    columns=["event_type", "campaign_id"],
)


def test_budget_action_measured_over_its_observed_days() -> None:
    """D-b1: 2 of 3 phased days observed (500 of 700 EUR planned), so 1,000 EUR expected so
    far; the channel did 500 EUR spend and 1,200 EUR revenue: ROAS 2.4 vs 2.0 expected."""
    out = decision_outcomes(DECISIONS, KPIS, CONVERSIONS, EMAIL_EVENTS).set_index("decision_id")
    b = out.loc["D-b1"]
    assert (b["days_planned"], b["days_observed"], bool(b["complete"])) == (3, 2, False)
    assert b["expected_revenue_to_date"] == pytest.approx(1000.0)
    assert (b["actual_spend"], b["actual_revenue"], b["actual_conversions"]) == (
        500.0,
        1200.0,
        12.0,
    )
    assert b["actual_roas"] == pytest.approx(2.4) and b["expected_roas"] == pytest.approx(2.0)
    assert b["revenue_vs_expected"] == pytest.approx(1.2)
    assert (b["tagged_conversions"], b["tagged_revenue"]) == (1, 70.0)


def test_content_action_measured_by_its_tags() -> None:
    """D-c1: two conversions (80 EUR) and 3 sends / 2 opens / 1 click carry its id."""
    c = (
        decision_outcomes(DECISIONS, KPIS, CONVERSIONS, EMAIL_EVENTS)
        .set_index("decision_id")
        .loc["D-c1"]
    )
    assert (c["actual_conversions"], c["actual_revenue"]) == (2.0, 80.0)
    assert (c["sends"], c["opens"], c["clicks"]) == (3, 2, 1)
    assert c["revenue_vs_expected"] == pytest.approx(0.8)


def test_only_executed_actions_with_data_are_measured() -> None:
    """Pending actions and actions scheduled after the last data day get no outcome row."""
    out = decision_outcomes(DECISIONS, KPIS, CONVERSIONS, EMAIL_EVENTS)
    assert sorted(out["decision_id"]) == ["D-b1", "D-c1"]
    assert decision_outcomes(DECISIONS.iloc[0:0], KPIS, CONVERSIONS).empty


def test_forecast_error_by_hand() -> None:
    """Forecasts 100 [80,120] and 50 [40,60] against actuals 80 and 100: MAPE 0.375,
    sMAPE 0.444, bias -15, coverage 0.5; in-sample days and days without actuals are skipped;
    a zero forecast of a zero actual is a perfect sMAPE and no MAPE."""
    as_of = date(2026, 11, 20)
    fc = pd.DataFrame(
        [
            (
                as_of,
                "paid_search",
                "revenue",
                date(2026, 11, 20),
                1.0,
                0.0,
                2.0,
            ),  # in-sample: skipped
            (as_of, "paid_search", "revenue", date(2026, 11, 21), 100.0, 80.0, 120.0),
            (as_of, "paid_search", "revenue", date(2026, 11, 22), 50.0, 40.0, 60.0),
            (as_of, "paid_search", "revenue", date(2026, 12, 1), 50.0, 40.0, 60.0),  # no actual yet
            (as_of, "display", "conversions", date(2026, 11, 21), 0.0, 0.0, 1.0),
        ],
        columns=["as_of", "channel", "metric", "date_day", "yhat", "yhat_lower", "yhat_upper"],
    )
    actuals = pd.DataFrame(
        [
            (date(2026, 11, 20), "paid_search", 5.0, 1.0),
            (date(2026, 11, 21), "paid_search", 80.0, 2.0),
            (date(2026, 11, 22), "paid_search", 100.0, 3.0),
            (date(2026, 11, 21), "display", 0.0, 0.0),
        ],
        columns=["date_day", "channel", "revenue", "conversions"],
    )
    out = forecast_error(fc, actuals).set_index(["channel", "metric"])
    r = out.loc[("paid_search", "revenue")]
    assert r["n"] == 2
    assert r["mape"] == pytest.approx(0.375)
    assert r["smape"] == pytest.approx((40 / 180 + 100 / 150) / 2)
    assert r["bias"] == pytest.approx(-15.0)
    assert r["coverage"] == pytest.approx(0.5)
    d = out.loc[("display", "conversions")]
    assert d["smape"] == 0.0 and math.isnan(d["mape"]) and d["coverage"] == 1.0
    assert forecast_error(fc.iloc[0:0], actuals).empty


@pytest.mark.parametrize(
    ("campaign_ids", "decision_ids", "kept"),
    [
        (["D-1", "em-20250101-loyal", "D-2"], ["D-1", "D-2"], ["D-1", "D-2"]),
        (["em-20250101-loyal"], ["D-1"], []),
        ([], ["D-1"], []),
    ],
)
def test_agent_email_events_are_the_sends_of_its_decisions(campaign_ids, decision_ids, kept):
    """Only events whose campaign id is one of the agent's decision ids are its own."""
    events = pd.DataFrame(
        {
            "campaign_id": campaign_ids,
            "event_type": ["click"] * len(campaign_ids),
            "email": ["x"] * len(campaign_ids),
        }
    )
    out = agent_email_events(events, pd.Series(decision_ids))
    assert list(out.columns) == ["campaign_id", "event_type"]
    assert list(out["campaign_id"]) == kept


def test_the_assets_read_only_the_rows_that_measure_a_decision(tmp_path) -> None:
    """The measurement assets read the tagged conversions up to the day and the agent's own
    email events from a real DuckDB file, not the whole tables; outcomes and decision days
    computed from those equal the ones computed from everything."""
    import duckdb

    from marketing_ops.measurement import decision_days
    from marketing_ops.warehouse import read_agent_email_events, read_tagged_conversions

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("marts", "raw", "agent"):
        con.execute(f"create schema {schema}")
    late = pd.DataFrame(
        [("c5", date(2026, 12, 9), "email", "D-c1", 40.0)], columns=CONVERSIONS.columns
    )
    conversions = pd.concat([CONVERSIONS, late], ignore_index=True)
    conversions["conversion_type"] = ["purchase", "deal_won", "purchase", "purchase", "deal_won"]
    con.register("c", conversions)
    con.execute("create table marts.fct_conversions as select * from c")
    con.register("e", EMAIL_EVENTS)
    con.execute("create table raw.email_events as select * from e")
    con.register("d", DECISIONS)
    con.execute("create table agent.decisions as select * from d")
    day = date(2026, 11, 30)

    tagged = read_tagged_conversions(con, day)
    assert sorted(tagged["conversion_id"]) == ["c1", "c2", "c3"]  # not c4 (untagged), c5 (later)
    events = read_agent_email_events(con)
    assert sorted(set(events["campaign_id"])) == ["D-c1"] and len(events) == 6
    upto = conversions[pd.to_datetime(conversions["date_day"]).dt.date <= day]
    everything = agent_email_events(EMAIL_EVENTS, DECISIONS["decision_id"])
    pd.testing.assert_frame_equal(
        decision_outcomes(
            DECISIONS, KPIS, tagged, agent_email_events(events, DECISIONS["decision_id"])
        ),
        decision_outcomes(DECISIONS, KPIS, upto, everything),
    )
    pd.testing.assert_frame_equal(
        decision_days(DECISIONS, KPIS, tagged), decision_days(DECISIONS, KPIS, upto)
    )
    # a warehouse without the tables yet (first day): empty frames, no error
    empty = duckdb.connect(str(tmp_path / "empty.duckdb"))
    assert read_tagged_conversions(empty, day).empty and read_agent_email_events(empty).empty
