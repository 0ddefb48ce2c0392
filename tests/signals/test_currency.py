"""Reporting currency and time zone: the rates table and settings in the data home, applied
on load (amounts beside their originals, timestamps in the reporting zone)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from signal_samples import DAY, PII_KEY, drop

from marketing_ops.config import DataHome
from marketing_ops.signals import ingest_source
from marketing_ops.signals.currency import (
    FxRates,
    ReportingConfigError,
    load_reporting,
)

D = DAY.isoformat()
FRIDAY = DAY - timedelta(days=(DAY.weekday() - 4) % 7)  # the Friday on or before DAY
ECB = (
    "Date,USD,JPY,GBP,\n"  # the ECB's own file ends every line with a comma
    f"{FRIDAY},1.0800,160.10,0.8500,\n"
    f"{FRIDAY - timedelta(days=1)},1.0900,N/A,0.8600,\n"
)


def test_ecb_rates_convert_with_the_latest_rate_and_cross_rates(tmp_path) -> None:
    """ECB rates are units per EUR: 108 USD is 100 EUR; a weekend day uses Friday's rate;
    with GBP as the reporting currency, EUR and USD go through the cross rate."""
    (tmp_path / "fx_rates.csv").write_text(ECB)
    eur = load_reporting(tmp_path)
    assert eur.currency == "EUR" and eur.time_zone == "UTC"
    assert eur.rates.convert(108.0, "USD", FRIDAY) == pytest.approx(100.0)
    assert eur.rates.convert(108.0, "USD", FRIDAY + timedelta(days=2)) == pytest.approx(100.0)
    assert eur.rates.convert(50.0, "EUR", FRIDAY) == 50.0
    assert eur.rates.convert(50.0, None, FRIDAY) == 50.0  # no currency: the account's own

    (tmp_path / "reporting.yaml").write_text("currency: gbp\ntime_zone: Europe/London\n")
    gbp = load_reporting(tmp_path)
    assert gbp.currency == "GBP" and gbp.zone.key == "Europe/London"
    assert gbp.rates.convert(100.0, "EUR", FRIDAY) == pytest.approx(85.0)
    assert gbp.rates.convert(108.0, "USD", FRIDAY) == pytest.approx(85.0)


@pytest.mark.parametrize(
    ("day", "currency", "reason"),
    [
        (FRIDAY + timedelta(days=30), "USD", "up to 7 days before"),  # stale
        (FRIDAY - timedelta(days=5), "USD", "up to 7 days before"),  # before the first rate
        (FRIDAY, "CHF", "no exchange rate CHF->EUR"),  # not in the table
        (FRIDAY - timedelta(days=1), "JPY", "up to 7 days before"),  # N/A that day, none before
    ],
)
def test_missing_rates_say_why(tmp_path, day: date, currency: str, reason: str) -> None:
    """No rate on or shortly before the day is an error naming the pair, the day and the file."""
    (tmp_path / "fx_rates.csv").write_text(ECB)
    rates = load_reporting(tmp_path).rates
    with pytest.raises(ValueError, match=reason) as error:
        rates.convert(1.0, currency, day)
    assert "reference/fx_rates.csv" in str(error.value)


@pytest.mark.parametrize(
    ("file", "text", "names"),
    [
        ("reporting.yaml", "currency: euro\n", ["reporting.yaml", "currency", "ISO 4217"]),
        ("reporting.yaml", "time_zone: Mars/Olympus\n", ["time_zone", "Mars/Olympus"]),
        ("reporting.yaml", "max_rate_age_days: -1\n", ["max_rate_age_days"]),
        ("reporting.yaml", "curency: EUR\n", ["curency"]),
        ("fx_rates.csv", "Day,USD\n2026-01-02,1.1\n", ["fx_rates.csv", "line 1", "Date"]),
        ("fx_rates.csv", "Date,USD\n2026-01-02,abc\n", ["line 2", "field USD", "abc"]),
        ("fx_rates.csv", "Date,USD\n02/01/2026,1.1\n", ["line 2", "field Date"]),
        ("fx_rates.csv", "Date,USD\n2026-01-02,0\n", ["line 2", "positive"]),
    ],
)
def test_bad_reference_files_name_file_line_and_field(tmp_path, file, text, names) -> None:
    (tmp_path / file).write_text(text)
    with pytest.raises(ReportingConfigError) as error:
        load_reporting(tmp_path)
    for name in names:
        assert name in str(error.value)


def test_fx_fingerprint_changes_with_the_rates() -> None:
    a = FxRates("EUR", 7, "x", {"USD": ([DAY], [1.1])})
    b = FxRates("EUR", 7, "x", {"USD": ([DAY], [1.2])})
    assert a.fingerprint != b.fingerprint and a.fingerprint == FxRates(**a.__dict__).fingerprint


GOOGLE = "Day,Campaign ID,Campaign,Impressions,Clicks,Cost,Conversions,Conv. value,Currency code\n"


def test_ingest_converts_amounts_and_rejects_rows_without_rates(home: DataHome, con) -> None:
    """A USD account's spend lands as it was, with its EUR twin beside it; a CHF row without a
    rate is rejected naming the currency; the EUR rows are untouched. Adding the rate and
    re-running the day brings the CHF row back from the archive."""
    (home.reference / "fx_rates.csv").write_text(ECB)
    drop(
        home,
        "google_ads",
        f"google_ads_{FRIDAY}.csv",
        GOOGLE
        + f"{FRIDAY},1,A,100,10,108.00,1,216.00,USD\n"
        + f"{FRIDAY},2,B,100,10,50.00,1,80.00,EUR\n"
        + f"{FRIDAY},3,C,100,10,99.00,1,80.00,CHF\n",
    )
    report = ingest_source(home, con, "google_ads", FRIDAY, FRIDAY, PII_KEY)
    rows = con.execute(
        "select campaign_id, spend, currency, spend_reporting, conversions_value_reporting "
        "from raw.google_ads order by campaign_id"
    ).fetchall()
    assert rows[0][:3] == ("1", 108.0, "USD")
    assert rows[0][3] == pytest.approx(100.0) and rows[0][4] == pytest.approx(200.0)
    assert rows[1] == ("2", 50.0, "EUR", 50.0, 80.0)
    assert report.rejected == 1
    field, reason = con.execute("select field, reason from raw.rejects").fetchone()
    assert field == "currency" and "CHF->EUR" in reason

    (home.reference / "fx_rates.csv").write_text(
        ECB.replace("Date,USD,JPY,GBP,", "Date,USD,JPY,GBP,CHF").replace(
            f"{FRIDAY},1.0800,160.10,0.8500,", f"{FRIDAY},1.0800,160.10,0.8500,0.9900"
        )
    )
    ingest_source(home, con, "google_ads", FRIDAY, FRIDAY, PII_KEY)
    assert con.execute(
        "select spend_reporting from raw.google_ads where currency = 'CHF'"
    ).fetchone()[0] == pytest.approx(100.0)
    assert con.execute("select count(*) from raw.rejects").fetchone()[0] == 0


def test_reporting_time_zone_moves_timestamps_and_days(home: DataHome, con) -> None:
    """With Europe/Berlin as the reporting zone, an email opened at 23:30 UTC is stored at
    00:30 local time and belongs to the next day's partition; GA4's UTC microseconds move too."""
    (home.reference / "reporting.yaml").write_text("time_zone: Europe/Berlin\n")
    drop(
        home,
        "email_events",
        f"email_events_{D}.csv",
        "event_id,timestamp,event_type,email,message_id,campaign_id,content_id\n"
        f"e1,{D}T23:30:00Z,open,ana@example.com,m1,em-x,A001\n"
        f"e2,{D}T10:00:00+00:00,click,ana@example.com,m1,em-x,A001\n",
    )
    utc = datetime(DAY.year, DAY.month, DAY.day, 23, 30)
    micros = int((utc - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    event = {
        "event_date": DAY.strftime("%Y%m%d"),
        "event_timestamp": micros,
        "event_name": "page_view",
        "user_pseudo_id": "1.2",
    }
    drop(home, "ga4", f"ga4_{D}.jsonl", json.dumps(event) + "\n")
    nxt = DAY + timedelta(days=1)
    ingest_source(home, con, "email_events", DAY, nxt, PII_KEY)
    ingest_source(home, con, "ga4", DAY, nxt, PII_KEY)

    offset = 2 if 3 < DAY.month < 11 else 1
    rows = dict(
        con.execute("select event_id, (event_ts, partition_date) from raw.email_events").fetchall()
    )
    if DAY.month not in (3, 10):  # the weeks around a DST switch aside
        assert rows["e1"] == (utc + timedelta(hours=offset), nxt)
        assert con.execute("select event_ts from raw.ga4_events").fetchone()[0] == utc + timedelta(
            hours=offset
        )
    assert rows["e2"][1] == DAY
    # GA4's own event_date is the property's day and stays the partition.
    assert con.execute("select partition_date from raw.ga4_events").fetchone()[0] == DAY
