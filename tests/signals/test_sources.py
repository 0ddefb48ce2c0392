"""Each source's export shapes and variants land on the contract's raw columns."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from signal_samples import DAY, PII_KEY, PREV, drop

from marketing_ops.config import DataHome
from marketing_ops.signals import SourcesConfigError, ingest_source, load_sources
from marketing_ops.signals.privacy import email_key

D = DAY.isoformat()
PUBLIC = Path("/work/shared/fixtures/public")


def _event(name: str, ts_micros: int, **extra) -> dict:
    event = {
        "event_date": DAY.strftime("%Y%m%d"),
        "event_timestamp": ts_micros,
        "event_name": name,
        "user_pseudo_id": "u1",
        "user_id": None,
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": 1700000001}},
            {"key": "page_location", "value": {"string_value": "https://shop.example/p/1"}},
        ],
        "traffic_source": {"name": "(organic)", "medium": "organic", "source": "google"},
        "ecommerce": None,
        "items": [],
        "device": {"category": "mobile"},
        "geo": {"country": "Germany"},
    }
    event.update(extra)
    return event


def test_ga4_jsonl_gz_flattens_and_falls_back_to_first_user_source(home: DataHome, con) -> None:
    """GA4 events are flattened onto raw.ga4_events: params, this session's source, the
    first-user source when the session has none, purchase revenue; a broken line is
    rejected with its line number and the other events load."""
    ts = int(datetime(DAY.year, DAY.month, DAY.day, 9, 30).timestamp()) * 1_000_000
    paid = _event(
        "purchase",
        ts,
        collected_traffic_source={
            "manual_source": "google",
            "manual_medium": "cpc",
            "manual_campaign_name": "SEARCH | brand",
            "manual_campaign_id": "9000000101",
            "manual_content": None,
            "gclid": "Cj0KCQ",
        },
        ecommerce={"purchase_revenue": 89.5, "transaction_id": "T-1"},
    )
    lines = [json.dumps(paid), json.dumps(_event("page_view", ts + 1)), '{"event_name": "page_vi']
    drop(home, "ga4", f"ga4_{D}.jsonl.gz", gzip.compress("\n".join(lines).encode()))

    report = ingest_source(home, con, "ga4", DAY, DAY, PII_KEY)

    assert report.to_metadata()["loaded"] == 2 and report.to_metadata()["rejected"] == 1
    rows = con.execute(
        "select event_name, session_id, page_location, source, medium, campaign_id, gclid, revenue, "
        "transaction_id, device_category, country, event_date, _line from raw.ga4_events order by _line"
    ).fetchall()
    assert rows[0] == (
        "purchase",
        1700000001,
        "https://shop.example/p/1",
        "google",
        "cpc",
        "9000000101",
        "Cj0KCQ",
        89.5,
        "T-1",
        "mobile",
        "Germany",
        DAY,
        1,
    )
    assert rows[1][3:5] == ("google", "organic")  # no collected_traffic_source: first-user source
    assert con.execute("select line from raw.rejects").fetchone()[0] == 3


def test_meta_actions_count_only_configured_purchase_types(home: DataHome, con) -> None:
    """Meta conversions and their value come from the `offsite_conversion.fb_pixel_purchase`
    entries of the actions/action_values JSON lists; other action types are ignored."""
    actions = json.dumps(
        [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
            {"action_type": "link_click", "value": "40"},
        ]
    )
    values = json.dumps([{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "210.5"}])
    header = "date_start,date_stop,account_id,campaign_id,campaign_name,adset_id,ad_id,impressions,clicks,spend,account_currency,actions,action_values"
    row = [
        D,
        D,
        "act_1",
        "2385000000101",
        "PROSPECTING",
        "23850001",
        "23850002",
        "5000",
        "60",
        "75.2",
        "EUR",
        actions,
        values,
    ]
    quoted = ",".join('"' + v.replace('"', '""') + '"' for v in row)
    cut = [*row[:11], actions[:-7], values]  # a JSON list cut short: rejected, not guessed
    broken = ",".join('"' + v.replace('"', '""') + '"' for v in cut)
    drop(home, "meta_ads", f"meta_ads_{D}.csv", f"{header}\n{quoted}\n{broken}\n")

    ingest_source(home, con, "meta_ads", DAY, DAY, PII_KEY)

    assert con.execute(
        "select conversions, conversions_value, spend from raw.meta_ads"
    ).fetchall() == [(3.0, 210.5, 75.2)]
    assert con.execute("select field from raw.rejects").fetchall() == [("conversions",)]


def test_geographic_reports_keep_their_regions_until_a_later_file_restates_them(
    home: DataHome, con
) -> None:
    """A Google Ads geographic report (``Region``), Meta's ``region`` breakdown and GA4's
    ``geo.region`` land in the raw geo columns; a file's regions are rows of one campaign and
    day that add up (none replaces another). A later campaign report of the same day replaces
    every regional row of that campaign, and the regions it does not have are gone with them."""
    header = "Day,Campaign ID,Campaign,Region,Impressions,Clicks,Cost,Conversions,Conv. value,Currency code"
    geo_report = (
        f"{header}\n{D},1,SEARCH,Bavaria,600,30,12.0,2,200,EUR\n"
        f"{D},1,SEARCH,Berlin,400,20,8.0,1,100,EUR\n{D},2,DISPLAY,Berlin,900,9,4.0,0,0,EUR\n"
    )
    drop(home, "google_ads", f"google_ads_{D}.csv", geo_report)
    meta = (
        "date_start,campaign_id,impressions,clicks,spend,region\n"
        f"{D},m1,100,3,5.0,Bavaria\n{D},m1,50,1,2.5,Hamburg\n"
    )
    drop(home, "meta_ads", f"meta_ads_{D}.csv", meta)
    ts = int(datetime(DAY.year, DAY.month, DAY.day, 9, 30).timestamp()) * 1_000_000
    visit = _event("page_view", ts, geo={"country": "Germany", "region": "Bavaria"})
    drop(
        home,
        "ga4",
        f"ga4_{D}.jsonl",
        json.dumps(visit) + "\n" + json.dumps(_event("page_view", ts + 1)),
    )
    for source in ("google_ads", "meta_ads", "ga4"):
        ingest_source(home, con, source, DAY, DAY, PII_KEY)

    def google() -> list[tuple]:
        return con.execute(
            "select campaign_id, geo, spend from raw.google_ads order by campaign_id, geo"
        ).fetchall()

    assert google() == [("1", "Bavaria", 12.0), ("1", "Berlin", 8.0), ("2", "Berlin", 4.0)]
    assert con.execute("select geo, spend from raw.meta_ads order by geo").fetchall() == [
        ("Bavaria", 5.0),
        ("Hamburg", 2.5),
    ]
    assert con.execute("select region from raw.ga4_events order by _line").fetchall() == [
        ("Bavaria",),
        (None,),
    ]
    restated = (
        "Day,Campaign ID,Campaign,Impressions,Clicks,Cost,Conversions,Conv. value,Currency code\n"
        f"{D},1,SEARCH,1000,50,21.0,3,300,EUR\n"
    )
    drop(home, "google_ads", f"google_ads_{D}_restated.csv", restated)
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    assert google() == [("1", None, 21.0), ("2", "Berlin", 4.0)]


def test_offline_conversions_time_zone_line_converts_to_utc(home: DataHome, con) -> None:
    """The Parameters:TimeZone line is honoured: Berlin wall-clock times become UTC."""
    text = (
        "Parameters:TimeZone=Europe/Berlin\n"
        "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n"
        f"Cj0KCQ,deal_won,{D} 10:15:00,1200,EUR\n"
        f"Cj0KCR,deal_won,{D} 25:61:00,1200,EUR\n"
    )
    drop(home, "offline_conversions", f"offline_conversions_{D}.csv", text)

    ingest_source(home, con, "offline_conversions", DAY, DAY, PII_KEY)

    (ts,) = con.execute("select conversion_ts from raw.offline_conversions").fetchone()
    offset_hours = 2 if 3 < DAY.month < 11 else 1  # CEST or CET (edge weeks aside)
    if DAY.month in (3, 10):
        assert ts.hour in (8, 9)
    else:
        assert ts == datetime(DAY.year, DAY.month, DAY.day, 10 - offset_hours, 15)
    assert con.execute("select field, line from raw.rejects").fetchall() == [("conversion_ts", 4)]


def test_salesforce_opportunity_headers_and_stage_mapping(home: DataHome, con) -> None:
    """Salesforce-like headers map onto raw.crm_deals; `Closed Won` becomes `closedwon`."""
    text = (
        "Opportunity ID,Email,CreatedDate,StageName,Amount,CurrencyIsoCode,CloseDate\n"
        f"006q000000HddohAAB,ana@example.com,{PREV}T08:00:00Z,Closed Won,24120,EUR,{D}\n"
        f"006q000000HdPzpAAF,,{PREV}T08:00:00Z,Closed Lost,,EUR,{D}\n"
    )
    drop(home, "crm_deals", f"crm_deals_{D}.csv", text)

    ingest_source(home, con, "crm_deals", DAY, DAY, PII_KEY)

    rows = con.execute(
        "select deal_id, stage, amount, contact_key, closed_at::date from raw.crm_deals order by deal_id"
    ).fetchall()
    assert rows == [
        ("006q000000HdPzpAAF", "closedlost", None, None, DAY),
        ("006q000000HddohAAB", "closedwon", 24120.0, email_key(PII_KEY, "ana@example.com"), DAY),
    ]


def test_email_events_unparseable_timestamp_rejected(home: DataHome, con) -> None:
    """An unparseable timestamp is a reject on its line; event types are lower-cased."""
    text = (
        "event_id,timestamp,event_type,email,message_id,campaign_id,content_id\n"
        f"e1,{D}T07:00:00Z,OPEN,Ana@Example.com ,m1,em-20240501-loyal_customers,A001\n"
        "e2,31/31/2024 7h,click,ana@example.com,m1,em-20240501-loyal_customers,A001\n"
    )
    drop(home, "email_events", f"email_events_{D}.csv", text)

    ingest_source(home, con, "email_events", DAY, DAY, PII_KEY)

    assert con.execute("select event_type, contact_key from raw.email_events").fetchall() == [
        ("open", email_key(PII_KEY, "ana@example.com"))
    ]
    assert con.execute("select line, field from raw.rejects").fetchall() == [(3, "event_ts")]


def test_public_fivetran_google_ads_cost_micros(home: DataHome, con) -> None:
    """Fivetran's real google_ads campaign stats (cost_micros, no currency) load in full with
    spend in currency units; replayed with `today` set to the sample's time."""
    sample = PUBLIC / "fivetran_ads" / "google_ads_campaign_stats_data.csv"
    drop(home, "google_ads", "google_ads_campaign_stats_data.csv", sample.read_bytes())

    report = ingest_source(
        home,
        con,
        "google_ads",
        date(2020, 1, 1),
        date(2021, 12, 31),
        PII_KEY,
        today=date(2021, 7, 1),
    )

    expected = con.execute(
        "select count(*), sum(cost_micros) / 1e6 from read_csv_auto(?)", [str(sample)]
    ).fetchone()
    got = con.execute("select count(*), sum(spend) from raw.google_ads").fetchone()
    assert report.rejected == 0
    assert got[0] == expected[0] and got[1] == pytest.approx(expected[1])


def test_public_salesforce_opportunities_reconcile(home: DataHome, con) -> None:
    """Salesforce's real opportunity sample (snake_case headers): every row is loaded or
    rejected with a reason, none lost."""
    sample = PUBLIC / "fivetran_crm" / "salesforce" / "sf_opportunity_data.csv"
    shutil.copy(
        sample, home.source_inbox("crm_deals").mkdir(parents=True) or home.source_inbox("crm_deals")
    )

    report = ingest_source(
        home,
        con,
        "crm_deals",
        date(2010, 1, 1),
        date(2019, 12, 31),
        PII_KEY,
        today=date(2019, 6, 1),
    )

    source_rows = con.execute("select count(*) from read_csv_auto(?)", [str(sample)]).fetchone()[0]
    assert report.received == source_rows
    assert report.loaded + report.rejected == source_rows
    assert report.loaded == con.execute("select count(*) from raw.crm_deals").fetchone()[0] > 0


def test_public_meta_basic_ad_without_campaign_is_quarantined(home: DataHome, con) -> None:
    """Fivetran's Meta basic_ad table has no campaign_id: the file is quarantined, naming it."""
    sample = PUBLIC / "fivetran_ads" / "facebook_ads_basic_ad_data.csv"
    drop(home, "meta_ads", "facebook_ads_basic_ad_data.csv", sample.read_bytes())

    report = ingest_source(home, con, "meta_ads", DAY, DAY, PII_KEY)

    error = json.loads(
        (home.quarantine / "meta_ads" / "facebook_ads_basic_ad_data.csv.error.json").read_text()
    )
    assert report.to_metadata()["quarantined"] == 1
    assert error["field"] == "campaign_id"


def test_bad_config_names_file_and_field(tmp_path: Path) -> None:
    """A wrong type in sources.yaml is reported with the file path and the dotted field."""
    bad = tmp_path / "sources.yaml"
    original = (
        Path(__file__).resolve().parents[2] / "marketing_ops" / "signals" / "sources.yaml"
    ).read_text()
    bad.write_text(
        original.replace(
            "type: float, required: true, min: 0}", "type: money, required: true, min: 0}"
        )
    )

    with pytest.raises(SourcesConfigError) as error:
        load_sources(bad)

    assert str(bad) in str(error.value)
    assert "sources.meta_ads.columns.spend.type" in str(error.value)


def test_config_rejects_columns_outside_the_contract(tmp_path: Path) -> None:
    """Canonical names become SQL identifiers: a column the contract does not have is refused."""
    original = (
        Path(__file__).resolve().parents[2] / "marketing_ops" / "signals" / "sources.yaml"
    ).read_text()
    bad = tmp_path / "sources.yaml"
    bad.write_text(original.replace("      spend:\n", "      spend_x:\n", 1))

    with pytest.raises(SourcesConfigError, match=r"sources\.google_ads\.columns.*spend_x"):
        load_sources(bad)


META_RECORD = {
    "date_start": D,
    "date_stop": D,
    "account_id": "act_1",
    "campaign_id": "2385000000101",
    "campaign_name": "PROSPECTING",
    "adset_id": "23850001",
    "ad_id": "23850002",
    "impressions": "5000",
    "clicks": "60",
    "spend": "75.20",
    "account_currency": "EUR",
    "actions": [
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
        {"action_type": "link_click", "value": "40"},
    ],
    "action_values": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "210.5"}],
}


@pytest.mark.parametrize(
    "shape",
    ["api_page", "array", "json_lines"],
)
def test_meta_insights_as_json(shape: str, home: DataHome, con) -> None:
    """Meta insights as JSON (an Insights API page, a plain array, or one object per line)
    load like the CSV export, with actions as real lists; a record that is not an object is
    rejected with its position."""
    other = {**META_RECORD, "ad_id": "23850003", "actions": None, "action_values": None}
    records = [META_RECORD, other, "oops"]
    if shape == "api_page":
        text = json.dumps({"data": records, "paging": {"cursors": {"before": "x"}}})
    elif shape == "array":
        text = json.dumps(records, indent=2)
    else:
        text = "\n".join(json.dumps(r) for r in records) + "\n"
    drop(home, "meta_ads", f"meta_ads_{D}.json", text)

    report = ingest_source(home, con, "meta_ads", DAY, DAY, PII_KEY)

    assert con.execute(
        "select ad_id, spend, conversions, conversions_value from raw.meta_ads order by ad_id"
    ).fetchall() == [("23850002", 75.2, 3.0, 210.5), ("23850003", 75.2, 0.0, 0.0)]
    assert report.received == 3 and report.rejected == 1
    assert con.execute("select line, field from raw.rejects").fetchall() == [(3, "(row)")]


def test_meta_json_cut_short_is_quarantined(home: DataHome, con) -> None:
    """A JSON document cut short cannot be read as a whole: quarantined, error names the line."""
    text = json.dumps({"data": [META_RECORD, META_RECORD]}, indent=2)
    drop(home, "meta_ads", f"meta_ads_{D}.json", text[: len(text) // 2])

    report = ingest_source(home, con, "meta_ads", DAY, DAY, PII_KEY)

    error = json.loads((home.quarantine / "meta_ads" / f"meta_ads_{D}.json.error.json").read_text())
    assert report.to_metadata()["quarantined"] == 1
    assert "invalid JSON document" in error["reason"] and error["line"] > 1


def test_public_hubspot_deals_without_stage_are_quarantined(home: DataHome, con) -> None:
    """Fivetran's HubSpot deal table carries no stage column (only a pipeline stage id): the
    file is quarantined naming the stage, nothing half-loaded."""
    sample = PUBLIC / "fivetran_crm" / "hubspot" / "deal_data.csv"
    drop(home, "crm_deals", "deal_data.csv", sample.read_bytes())

    report = ingest_source(home, con, "crm_deals", DAY, DAY, PII_KEY)

    error = json.loads((home.quarantine / "crm_deals" / "deal_data.csv.error.json").read_text())
    assert report.to_metadata()["quarantined"] == 1 and error["field"] == "stage"
    assert con.execute("select count(*) from raw.crm_deals").fetchone()[0] == 0


def test_public_hubspot_email_events_hashed_recipients_are_rejected(home: DataHome, con) -> None:
    """HubSpot's real email events map (created, type, email_campaign_id, recipient); the
    sample's recipients are hashes, not emails, so every row is rejected on contact_key with
    a masked value: nothing that is not an email is keyed as one, and nothing is lost."""
    sample = PUBLIC / "fivetran_crm" / "hubspot" / "email_event_data.csv"
    drop(home, "email_events", "email_event_data.csv", sample.read_bytes())

    report = ingest_source(
        home, con, "email_events", date(2015, 1, 1), date(2021, 12, 31), PII_KEY,
        today=date(2021, 6, 1),
    )  # fmt: skip

    rows = con.execute("select count(*) from read_csv_auto(?)", [str(sample)]).fetchone()[0]
    assert report.received == rows and report.loaded == 0
    fields = con.execute("select distinct field from raw.rejects").fetchall()
    assert fields == [("contact_key",)]
    assert (
        con.execute(
            "select count(*) from raw.rejects where raw_value not like '<masked%'"
        ).fetchone()[0]
        == 0
    )


def test_hubspot_style_event_types_map_to_the_contract(home: DataHome, con) -> None:
    """HubSpot writes SENT/OPEN in capitals: they land as `send` and `open`."""
    text = (
        "id,created,type,recipient,email_campaign_id\n"
        f"e1,{D}T07:00:00Z,SENT,ana@example.com,2\n"
        f"e2,{D}T07:05:00Z,OPEN,ana@example.com,2\n"
    )
    drop(home, "email_events", f"email_events_{D}.csv", text)

    ingest_source(home, con, "email_events", DAY, DAY, PII_KEY)

    assert con.execute(
        "select event_type, campaign_id from raw.email_events order by event_id"
    ).fetchall() == [("send", "2"), ("open", "2")]
