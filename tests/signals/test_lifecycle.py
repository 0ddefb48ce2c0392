"""File lifecycle and privacy: duplicates, corrections, re-runs, multi-day files, PII keys."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from signal_samples import DAY, PII_KEY, PREV, drop, google_csv

from marketing_ops.config import DataHome
from marketing_ops.signals import MissingPiiKeyError, ingest_source, pending_files, pii_key
from marketing_ops.signals.privacy import (
    DEMO_PII_KEY,
    PII_KEY_ENV,
    normalise_email,
    normalise_phone,
)

D = DAY.isoformat()


def _rows(con, table: str = "raw.google_ads") -> list[tuple]:
    return con.execute(
        f"select * exclude (_loaded_at) from {table} order by partition_date, _file_hash, _line"
    ).fetchall()


def test_rerun_is_idempotent_and_rebuilds_from_archive(home: DataHome, con) -> None:
    """Running the same window twice leaves exactly the same rows and rejects; the second run
    rebuilds them from the archived files (the inbox is empty by then)."""
    drop(home, "google_ads", f"google_ads_{D}.csv", google_csv(DAY, 3) + f"{D},1,x,1,5,1,0,0,EUR\n")
    first = ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    rows, rejects = _rows(con), con.execute("select count(*) from raw.rejects").fetchone()
    assert not any(home.source_inbox("google_ads").iterdir())

    second = ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)

    assert _rows(con) == rows and len(rows) == 3
    assert con.execute("select count(*) from raw.rejects").fetchone() == rejects == (1,)
    assert [f.status for f in second.files] == ["reloaded"]
    assert first.to_metadata()["loaded"] == second.to_metadata()["loaded"] == 3


def test_same_content_again_is_a_duplicate_no_op(home: DataHome, con) -> None:
    """The same bytes dropped again (even renamed) are logged `duplicate` and change nothing."""
    drop(home, "google_ads", f"google_ads_{D}.csv", google_csv(DAY))
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    before = _rows(con)
    drop(home, "google_ads", f"google_ads_{D}_copy.csv", google_csv(DAY))

    report = ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)

    assert _rows(con) == before
    assert report.to_metadata()["duplicates"] == 1
    statuses = con.execute(
        "select file_name, status from raw.file_log order by loaded_at, status"
    ).fetchall()
    assert (f"google_ads_{D}_copy.csv", "duplicate") in statuses
    assert not any(home.source_inbox("google_ads").iterdir())


def test_corrected_file_supersedes_and_both_are_archived(home: DataHome, con) -> None:
    """A different file for the same day replaces that day's rows; the earlier one is logged
    `superseded`; both stay in the archive."""
    drop(home, "google_ads", f"google_ads_{D}.csv", google_csv(DAY, 2, cost=9_999_999.0))
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    drop(home, "google_ads", f"google_ads_{D}_corrected.csv", google_csv(DAY, 3, cost=180.0))

    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)

    assert con.execute("select count(*), max(spend) from raw.google_ads").fetchone() == (3, 180.0)
    log = dict(con.execute("select file_name, status from raw.file_log").fetchall())
    assert log == {f"google_ads_{D}.csv": "superseded", f"google_ads_{D}_corrected.csv": "loaded"}
    assert len(list((home.archive / "google_ads").iterdir())) == 2
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)  # a re-run keeps the correction
    assert con.execute("select count(*), max(spend) from raw.google_ads").fetchone() == (3, 180.0)


def test_dates_inside_win_and_rows_go_to_their_own_days(home: DataHome, con) -> None:
    """A file whose name says one day but whose rows span two keeps each row on its own day;
    a file misnamed entirely is filed under the day inside it."""
    two_days = google_csv(DAY, 2) + "".join(
        line + "\n" for line in google_csv(PREV, 1).splitlines()[1:]
    )
    drop(home, "google_ads", f"google_ads_{D}.csv", two_days)
    misnamed_day = DAY - timedelta(days=5)
    drop(home, "google_ads", f"google_ads_{D}_x.csv", google_csv(misnamed_day, 1))

    waiting = {p.path.name: p for p in pending_files(home, "google_ads")}
    assert waiting[f"google_ads_{D}.csv"].days == (PREV, DAY)
    assert waiting[f"google_ads_{D}_x.csv"].day == misnamed_day
    ingest_source(home, con, "google_ads", misnamed_day, DAY, PII_KEY)

    by_day = dict(
        con.execute("select partition_date, count(*) from raw.google_ads group by 1").fetchall()
    )
    assert by_day == {DAY: 2, PREV: 1, misnamed_day: 1}
    days = dict(con.execute("select file_name, partition_date from raw.file_log").fetchall())
    assert days == {f"google_ads_{D}.csv": DAY, f"google_ads_{D}_x.csv": misnamed_day}


def test_file_outside_the_window_waits_in_the_inbox(home: DataHome, con) -> None:
    """A run for other days leaves a file alone for its own day's run."""
    drop(home, "google_ads", f"google_ads_{D}.csv", google_csv(DAY))
    report = ingest_source(home, con, "google_ads", PREV, PREV, PII_KEY)
    assert report.files == []
    assert (home.source_inbox("google_ads") / f"google_ads_{D}.csv").exists()


EMAILS = ["Ana.Lopez@Example.com", "bo@shop.example", "not-an-email@", "cy@mail.example"]


def test_no_raw_email_or_phone_reaches_the_warehouse_or_error_files(home: DataHome, con) -> None:
    """Emails and phones are keyed in contacts, deals and email events; a malformed email is
    rejected with a masked value; a quarantined contacts file's error file holds no email.
    Every text column of every table is scanned."""
    contacts = (
        "Contact ID,Email,Phone,Segment,Email Consent,Ads Consent,Unsubscribed,Create Date\n"
        f"C1,{EMAILS[0]},+49 170 1234567,loyal_customers,true,false,false,{D}T08:00:00Z\n"
        f"C2,{EMAILS[2]},0170 1234567,b2b_leads,true,true,false,{D}T09:00:00Z\n"
    )
    drop(home, "crm_contacts", f"crm_contacts_{D}.csv", contacts)
    drop(
        home,
        "crm_contacts",
        f"crm_contacts_{D}_broken.csv",
        f"Email,Phone\n{EMAILS[3]},+4915112345678\n",
    )
    deals = (
        "Deal ID,Contact Email,Create Date,Deal Stage,Amount,Currency,Close Date,UTM Source,UTM Medium,UTM Campaign,UTM Content,GCLID\n"
        f"D1,{EMAILS[1]},{D}T08:00:00Z,closedwon,900,EUR,{D}T10:00:00Z,google,cpc,{EMAILS[1]},,Cj0\n"
    )
    drop(home, "crm_deals", f"crm_deals_{D}.csv", deals)
    events = (
        "event_id,timestamp,event_type,email,message_id,campaign_id,content_id\n"
        f"e1,{D}T07:00:00Z,open,{EMAILS[0]},m1,em-x,A001\n"
        f"e2,not-a-time,open,{EMAILS[3]},m1,em-x,A001\n"
    )
    drop(home, "email_events", f"email_events_{D}.csv", events)

    for source in ("crm_contacts", "crm_deals", "email_events"):
        ingest_source(home, con, source, DAY, DAY, PII_KEY)

    texts: list[str] = []
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in columns:
        texts += [
            v
            for (v,) in con.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()
            if v
        ]
    for path in home.quarantine.rglob("*.error.json"):
        texts.append(path.read_text())
    assert texts and any(len(t) == 64 for t in texts)  # keys are there
    lowered = " ".join(texts).lower()
    for email in EMAILS:
        assert email.lower().rstrip("@") not in lowered
    assert "1234567" not in lowered
    assert con.execute("select count(*) from raw.crm_contacts").fetchone()[0] == 1
    reject = con.execute(
        "select field, raw_value from raw.rejects where field = 'contact_key'"
    ).fetchone()
    assert reject[0] == "contact_key" and reject[1].startswith("<masked")
    error = json.loads(next(home.quarantine.rglob("*.error.json")).read_text())
    assert error["field"] == "contact_id"


def test_pii_key_requires_a_secret_outside_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key and no demo mode is a clear error; demo mode uses the documented demo key;
    a configured key wins."""
    monkeypatch.delenv(PII_KEY_ENV, raising=False)
    with pytest.raises(MissingPiiKeyError, match=PII_KEY_ENV):
        pii_key(demo=False)
    assert pii_key(demo=True) == DEMO_PII_KEY
    monkeypatch.setenv(PII_KEY_ENV, "s3cret")
    assert pii_key(demo=False) == b"s3cret"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Ana.Lopez@Example.COM ", "ana.lopez@example.com"), ("no-at-sign", None), ("a@b", None)],
)
def test_normalise_email(raw: str, expected: str | None) -> None:
    """Emails are trimmed and lower-cased; things that are not emails give None."""
    assert normalise_email(raw) == expected


def test_gmail_dots_rule_is_optional() -> None:
    """Gmail ignores dots and +tags; the rule applies only when asked for."""
    assert normalise_email("J.Doe+news@googlemail.com", gmail_dots=True) == "jdoe@gmail.com"
    assert normalise_email("J.Doe@gmail.com") == "j.doe@gmail.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+49 (170) 123-4567", "+491701234567"),
        ("0049 170 1234567", "+491701234567"),
        ("0170 1234567", "01701234567"),
        ("12", None),
    ],
)
def test_normalise_phone(raw: str, expected: str | None) -> None:
    """Phones become digits, with a leading + for international numbers."""
    assert normalise_phone(raw) == expected


def test_additive_columns_reach_an_older_warehouse(con) -> None:
    """A warehouse made before the `_reporting` columns keeps its rows and gains the columns."""
    from marketing_ops.signals import ensure_raw_schema

    con.execute("create schema raw")
    con.execute(
        "create table raw.google_ads (date_day DATE, campaign_id VARCHAR, campaign_name VARCHAR, "
        "impressions BIGINT, clicks BIGINT, spend DOUBLE, conversions DOUBLE, "
        "conversions_value DOUBLE, currency VARCHAR, _file_hash VARCHAR, _file_name VARCHAR, "
        "_line INTEGER, _loaded_at TIMESTAMP, partition_date DATE)"
    )
    con.execute("insert into raw.google_ads (campaign_id, spend) values ('1', 2.5)")

    ensure_raw_schema(con)
    ensure_raw_schema(con)  # and again: nothing left to do

    assert con.execute(
        "select campaign_id, spend, spend_reporting from raw.google_ads"
    ).fetchall() == [("1", 2.5, None)]
    assert con.execute("select count(*) from raw.file_log").fetchone() == (0,)
