"""The marts of docs/contracts.md, built by a real `dbt build` over the raw world of world.py."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from .world import DAY1, DAY2, DAY3, K2, SEARCH, read_mart

CHANNELS = {
    "paid_search",
    "display",
    "paid_social",
    "email",
    "organic_search",
    "direct",
    "referral",
}


def test_schemas_are_exactly_staging_intermediate_marts(built_warehouse) -> None:
    """generate_schema_name puts models in `staging`/`intermediate`/`marts`, not `main_marts`."""
    with duckdb.connect(str(built_warehouse.db), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        marts = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert {"raw", "staging", "intermediate", "marts"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)
    assert marts == {
        "fct_ad_spend_daily", "fct_conversions", "fct_channel_kpis_daily", "fct_geo_kpis_daily",
        "fct_email_engagement",
        "fct_audience_send_hours", "fct_audience_email_daily", "fct_audience_kpis_daily", "dim_channel", "dim_campaign", "dim_audience", "dim_content_asset",
        "fct_touchpoints", "fct_journeys", "fct_attribution_daily", "fct_campaign_content",
        "dim_content_asset_version",
    }  # fmt: skip


def test_sources_carry_dagster_asset_keys(built_warehouse) -> None:
    """Each raw table maps to the `raw/<source>` asset the signals stage materialises; the
    tables Python hands to dbt map to the Python assets that write them."""
    manifest = json.loads((built_warehouse.work / "target" / "manifest.json").read_text())
    keys = {
        (s["source_name"], s["name"]): s["config"]["meta"]["dagster"]["asset_key"]
        for s in manifest["sources"].values()
    }
    raw = {name: key for (source, name), key in keys.items() if source == "raw"}
    assert raw["ga4_events"] == ["raw", "ga4"]
    assert raw["google_ads"] == ["raw", "google_ads"]
    assert len(raw) == 8 and all(k[0] == "raw" for k in raw.values())
    assert keys[("config", "channel_grouping_overrides")] == [
        "config",
        "channel_grouping_overrides",
    ]
    assert keys[("attribution", "data_driven_weights")] == ["attribution", "data_driven_weights"]


def test_each_business_conversion_is_counted_once(built_warehouse) -> None:
    """T1 sent twice is one purchase; offline G1 is DEAL1 again; the lost deal is none;
    offline G2 without a deal is a paid-search conversion of its own."""
    conversions = read_mart(built_warehouse.db, "marts.fct_conversions", "conversion_id").set_index(
        "conversion_id"
    )
    assert sorted(conversions.index) == [
        "deal:DEAL1", "deal:DEAL3", "offline:G2:2026-01-07 14:00:00", "purchase:T1", "purchase:T2",
    ]  # fmt: skip
    assert conversions.loc["purchase:T1", "revenue"] == 100.0
    offline = conversions.loc["offline:G2:2026-01-07 14:00:00"]
    assert (offline["conversion_type"], offline["channel"], offline["campaign_id"]) == (
        "deal_won",
        "paid_search",
        SEARCH,
    )
    assert conversions["revenue"].sum() == pytest.approx(100 + 50 + 1000 + 500 + 700)


def test_conversions_carry_channel_decision_and_contact(built_warehouse) -> None:
    """Channel from source/medium via the seed; decision ids from GA4 campaign id and deal
    UTM Content; a logged-in purchase gets the contact's key, never an email."""
    conversions = read_mart(built_warehouse.db, "marts.fct_conversions", "conversion_id").set_index(
        "conversion_id"
    )
    t2, deal3, deal1 = (
        conversions.loc["purchase:T2"],
        conversions.loc["deal:DEAL3"],
        conversions.loc["deal:DEAL1"],
    )
    assert (t2["channel"], t2["decision_id"], t2["contact_key"]) == ("email", "D-20260106-001", K2)
    assert (deal3["channel"], deal3["decision_id"]) == ("email", "D-20260107-002")
    assert deal1["channel"] == "paid_search" and pd.isna(deal1["decision_id"])
    assert not conversions["contact_key"].dropna().str.contains("@").any()


def test_channel_kpis_are_zero_filled(built_warehouse) -> None:
    """Every channel has a row every day, even paid social on day 3 when Meta reported nothing."""
    kpis = read_mart(built_warehouse.db, "marts.fct_channel_kpis_daily", "date_day, channel")
    assert len(kpis) == 3 * len(CHANNELS)
    assert set(kpis["channel"]) == CHANNELS
    assert {d.date() for d in kpis["date_day"]} == {DAY1, DAY2, DAY3}
    social_day3 = kpis[
        (kpis["channel"] == "paid_social") & (kpis["date_day"].dt.date == DAY3)
    ].iloc[0]
    assert social_day3["spend"] == 0 and social_day3["impressions"] == 0
    assert social_day3["roas"] != social_day3["roas"]  # NaN: no spend, no ROAS


def test_channel_kpis_compute_win_rate_cac_and_roas(built_warehouse) -> None:
    """Paid search on day 2: spend 20, DEAL1 won (1000) and DEAL2 lost -> win rate 0.5,
    CAC 20, ROAS 50; platform claims stay apart from measured conversions."""
    kpis = read_mart(built_warehouse.db, "marts.fct_channel_kpis_daily", "date_day, channel")
    row = kpis[(kpis["channel"] == "paid_search") & (kpis["date_day"].dt.date == DAY2)].iloc[0]
    assert (row["spend"], row["conversions"], row["revenue"]) == (20.0, 1, 1000.0)
    assert (row["deals_won"], row["deals_lost"], row["win_rate"]) == (1, 1, 0.5)
    assert (row["cac"], row["roas"]) == (20.0, 50.0)
    assert (row["platform_conversions"], row["platform_conversions_value"]) == (3.0, 300.0)
    social = kpis[(kpis["channel"] == "paid_social") & (kpis["date_day"].dt.date == DAY1)].iloc[0]
    assert (social["spend"], social["impressions"]) == (15.0, 1600)  # two Meta ads summed


def test_geo_kpis_place_spend_and_purchases_where_the_data_does(built_warehouse) -> None:
    """Search's day-1 geographic report stays per region in fct_geo_kpis_daily and sums to
    the campaign's day in fct_ad_spend_daily; T1 (two hits, Bavaria first) counts once, in
    Bavaria; T2 in Berlin; deals and reports without regions have no geo row."""
    geo = read_mart(built_warehouse.db, "marts.fct_geo_kpis_daily", "date_day, geo, channel")
    rows = {
        (r.date_day.date(), r.geo, r.channel): (r.spend, r.conversions, r.revenue)
        for r in geo.itertuples()
    }
    assert rows == {
        (DAY1, "Bavaria", "paid_search"): (12.0, 1, 100.0),
        (DAY1, "Berlin", "paid_search"): (8.0, 0, 0.0),
        (DAY2, "Berlin", "email"): (0.0, 1, 50.0),
    }
    spend = read_mart(built_warehouse.db, "marts.fct_ad_spend_daily", "date_day, campaign_id")
    search = spend[spend["campaign_id"] == SEARCH]
    search = search.set_index(search["date_day"].dt.date)
    assert len(search) == 3  # one row a day: the regions summed to the campaign's grain
    assert (search.loc[DAY1, "spend"], search.loc[DAY1, "impressions"]) == (20.0, 1000)
    assert search.loc[DAY1, "conversions_value"] == 300.0


def test_email_spend_is_sends_times_cost_per_send(built_warehouse) -> None:
    """Two sends on day 2 at the default 0.002 EUR: 0.004 EUR of email spend."""
    kpis = read_mart(built_warehouse.db, "marts.fct_channel_kpis_daily", "date_day, channel")
    email = kpis[kpis["channel"] == "email"].set_index(
        kpis[kpis["channel"] == "email"]["date_day"].dt.date
    )
    assert email.loc[DAY2, "spend"] == pytest.approx(0.004)
    assert email.loc[DAY3, "spend"] == 0 and email.loc[DAY3, "revenue"] == 500.0


def test_email_engagement_by_audience_and_asset(built_warehouse) -> None:
    """Unique opens per message; the contact's latest segment; both email conversions of K2
    credited to A001, the asset of its last click."""
    engagement = read_mart(
        built_warehouse.db, "marts.fct_email_engagement", "audience_id, asset_id"
    )
    rows = {(r.audience_id, r.asset_id): r for r in engagement.itertuples()}
    assert set(rows) == {
        ("engaged_prospects", "A001"),
        ("engaged_prospects", "A002"),
        ("loyal_customers", "A002"),
    }
    a001 = rows[("engaged_prospects", "A001")]
    assert (a001.sends, a001.opens, a001.clicks, a001.conversions) == (1, 1, 1, 2)
    assert rows[("loyal_customers", "A002")].conversions == 0


def test_audience_kpis_follow_the_contacts_latest_segment(built_warehouse) -> None:
    """Every audience with members, every day (zero-filled); K1's won DEAL1 is
    loyal_customers' on day 2; C2 moved from new_visitors to engaged_prospects on day 2, so its
    purchase T2 (day 2) and deal DEAL3 (day 3) are engaged_prospects'; T1 and G2 have no known
    contact and are in no audience."""
    kpis = read_mart(built_warehouse.db, "marts.fct_audience_kpis_daily", "date_day, audience_id")
    got = {
        (r.date_day.date(), r.audience_id): (r.conversions, r.revenue) for r in kpis.itertuples()
    }
    assert got == {
        (DAY1, "new_visitors"): (0, 0.0),
        (DAY1, "loyal_customers"): (0, 0.0),
        (DAY2, "engaged_prospects"): (1, 50.0),
        (DAY2, "loyal_customers"): (1, 1000.0),
        (DAY3, "engaged_prospects"): (1, 500.0),
        (DAY3, "loyal_customers"): (0, 0.0),
    }


def test_send_hours_cover_every_hour(built_warehouse) -> None:
    """24 zero-filled hours per audience; the two opens at 09:30/09:31 land in hour 9."""
    hours = read_mart(
        built_warehouse.db, "marts.fct_audience_send_hours", "audience_id, hour_of_day"
    )
    assert len(hours) == 2 * 24
    nine = hours[(hours["audience_id"] == "engaged_prospects") & (hours["hour_of_day"] == 9)].iloc[
        0
    ]
    assert (nine["opens"], nine["clicks"]) == (2, 1)
    assert hours["opens"].sum() == 3


def test_dimensions(built_warehouse) -> None:
    """Latest contact row decides the audience; latest asset version decides compliance;
    campaigns from every platform with their channel."""
    audiences = read_mart(built_warehouse.db, "marts.dim_audience", "audience_id").set_index(
        "audience_id"
    )
    assert set(audiences.index) == {"engaged_prospects", "loyal_customers"}  # C2 left new_visitors
    assets = read_mart(built_warehouse.db, "marts.dim_content_asset", "asset_id").set_index(
        "asset_id"
    )
    assert (
        assets.loc["A001", "version"] == 2 and not assets.loc["A001", "is_compliant"]
    )  # v2 pending
    assert not assets.loc["A002", "is_compliant"]  # approved but not brand safe
    assert assets.loc["A003", "is_compliant"]
    campaigns = read_mart(built_warehouse.db, "marts.dim_campaign", "campaign_id").set_index(
        "campaign_id"
    )
    assert campaigns.loc[SEARCH, "channel"] == "paid_search"
    assert campaigns.loc["9000000202", "channel"] == "display"
    assert campaigns.loc["2385000000101", "channel"] == "paid_social"
    assert campaigns.loc["em-20260105-engaged_prospects", "platform"] == "email"
    channels = read_mart(built_warehouse.db, "marts.dim_channel", "channel").set_index("channel")
    assert set(channels.index) == CHANNELS
    assert channels.loc["email", "channel_type"] == "owned" and not channels.loc["email", "is_paid"]
