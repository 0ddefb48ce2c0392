"""A corpus of broken and odd inputs: each has its documented outcome, and the valid file
dropped beside it in the same batch still arrives."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from signal_samples import DAY, GOOGLE_HEADER, PII_KEY, PREV, drop, google_csv, google_rows

from marketing_ops.config import DataHome
from marketing_ops.signals import ingest_source

D = DAY.isoformat()
NAME = f"google_ads_{D}.csv"


@dataclass
class Case:
    """One odd input: its bytes and what must happen to it."""

    id: str
    content: bytes
    status: str  # file_log status of the odd file
    loaded: int = 0
    rejected: int = 0
    reason: str = ""  # substring of the reject reason or the quarantine error
    name: str = NAME
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = field(default=None)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _spend_is(value: float) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def check(con: duckdb.DuckDBPyConnection) -> None:
        spends = con.execute(
            "select spend from raw.google_ads where date_day = ? order by campaign_id", [DAY]
        ).fetchall()
        assert spends and all(abs(s - value) < 1e-9 for (s,) in spends)

    return check


def _injection_stored(con: duckdb.DuckDBPyConnection) -> None:
    names = {n for (n,) in con.execute("select campaign_name from raw.google_ads").fetchall()}
    assert "'); DROP TABLE raw.google_ads; --" in names


VALID = google_rows(DAY)
FUTURE = (DAY + timedelta(days=4000)).isoformat()
ANCIENT = (DAY - timedelta(days=6 * 365)).isoformat()
valid_gz = gzip.compress(google_csv(DAY).encode())

CASES = [
    Case("plain", _csv(GOOGLE_HEADER, *VALID), "loaded", loaded=2),
    Case(
        "semicolon",
        _csv(*(line.replace(",", ";") for line in [GOOGLE_HEADER, *VALID])),
        "loaded",
        loaded=2,
    ),
    Case(
        "tab",
        _csv(*(line.replace(",", "\t") for line in [GOOGLE_HEADER, *VALID])),
        "loaded",
        loaded=2,
    ),
    Case("utf8_bom", b"\xef\xbb\xbf" + _csv(GOOGLE_HEADER, *VALID), "loaded", loaded=2),
    Case("utf16_bom", "\n".join([GOOGLE_HEADER, *VALID]).encode("utf-16"), "loaded", loaded=2),
    Case("crlf", "\r\n".join([GOOGLE_HEADER, *VALID]).encode(), "loaded", loaded=2),
    Case("gzip", valid_gz, "loaded", loaded=2, name=NAME + ".gz"),
    Case(
        "truncated_gzip",
        valid_gz[: len(valid_gz) // 2],
        "quarantined",
        reason="gzip",
        name=NAME + ".gz",
    ),
    Case(
        "wrong_encoding_latin1",
        (GOOGLE_HEADER + "\n" + VALID[0].replace("brand", "marqué") + "\n").encode("latin-1"),
        "quarantined",
        reason="not valid UTF-8",
    ),
    Case("binary_junk", bytes(range(256)) * 8, "quarantined", reason="binary"),
    Case("empty", b"", "quarantined", reason="empty file"),
    Case("whitespace_only", b"\n \n\t\n", "quarantined", reason="empty file"),
    Case(
        "missing_required_column",
        _csv("Day,Campaign ID,Campaign,Impressions,Cost", f"{D},9000000101,x,1000,12.0"),
        "quarantined",
        reason="required column missing: clicks",
    ),
    Case("header_only", _csv(GOOGLE_HEADER), "loaded", loaded=0),
    Case(
        "extra_column_tolerated",
        _csv(GOOGLE_HEADER + ",Ad network", *(v + ",Search" for v in VALID)),
        "loaded",
        loaded=2,
    ),
    Case(
        "wrong_types",
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,x,lots,50,1.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="int:",
    ),
    Case(
        "truncated_last_row",
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,SEARCH | br"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="fields",
    ),
    Case(
        "future_date",
        _csv(GOOGLE_HEADER, *VALID, f"{FUTURE},9000000199,x,10,1,1.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="future",
    ),
    Case(
        "more_than_5_years_back",
        _csv(GOOGLE_HEADER, *VALID, f"{ANCIENT},9000000199,x,10,1,1.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="5 years",
    ),
    Case(
        "unparseable_date",
        _csv(GOOGLE_HEADER, *VALID, "yesterday-ish,9000000199,x,10,1,1.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="date",
    ),
    Case(
        "negative_spend",
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,x,10,1,-4.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="negative",
    ),
    Case(
        "clicks_over_impressions",
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,x,10,11,4.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="clicks > impressions",
    ),
    Case(
        "unknown_currency",
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,x,10,1,4.0,0,0,XBT"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="unknown currency",
    ),
    Case(
        "missing_required_value",
        _csv(GOOGLE_HEADER, *VALID, f"{D},,x,10,1,4.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="required value missing",
    ),
    Case(
        "sql_injection_text_verbatim",
        _csv(
            GOOGLE_HEADER,
            f'{D},9000000101,"\'); DROP TABLE raw.google_ads; --",1000,50,1.0,0,0,EUR',
        ),
        "loaded",
        loaded=1,
        check=_injection_stored,
    ),
    Case(
        "ui_title_line_and_total_rows",
        _csv(
            "Campaign performance report",
            '"All time"',
            GOOGLE_HEADER,
            *VALID,
            "Total: Account,--,--,2000,100,241.00,6,480.0,EUR",
            "Total: Search,--,--,2000,100,241.00,6,480.0,EUR",
        ),
        "loaded",
        loaded=2,
    ),
    Case(
        "cost_micros_variant",
        _csv(
            "date,id,name,impressions,clicks,cost_micros,conversions,conversions_value",
            f"{D},9935249409,SEARCH | brand,166,49,36150000,0,0",
        ),
        "loaded",
        loaded=1,
        check=_spend_is(36.15),
    ),
    Case(
        "ui_cost_in_eur_with_thousands",
        _csv(
            "Day,Campaign ID,Campaign,Impr.,Clicks,Cost (EUR),Currency code",
            f'{D},9000000101,x,"12,000",50,"1,234.50",EUR',
        ),
        "loaded",
        loaded=1,
        check=_spend_is(1234.5),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input_has_documented_outcome(case: Case, home: DataHome, con) -> None:
    """The odd file gets its documented status and counts (received = loaded + rejected,
    reasons recorded, unreadable files quarantined with an error file), and a valid file
    for the previous day in the same batch loads in full."""
    drop(home, "google_ads", f"google_ads_{PREV.isoformat()}.csv", google_csv(PREV, n=3))
    drop(home, "google_ads", case.name, case.content)

    report = ingest_source(home, con, "google_ads", PREV, DAY, PII_KEY)

    assert (
        con.execute("select count(*) from raw.google_ads where date_day = ?", [PREV]).fetchone()[0]
        == 3
    )
    status, received, loaded, rejected = con.execute(
        "select status, received, loaded, rejected from raw.file_log where file_name = ?",
        [case.name],
    ).fetchone()
    assert status == case.status
    assert (loaded, rejected) == (case.loaded, case.rejected)
    assert received == loaded + rejected
    in_table = con.execute(
        "select count(*) from raw.google_ads where _file_name = ?", [case.name]
    ).fetchone()[0]
    assert in_table == case.loaded
    reasons = [
        r
        for (r,) in con.execute(
            "select reason from raw.rejects where file_name = ?", [case.name]
        ).fetchall()
    ]
    assert len(reasons) == case.rejected
    if case.status == "quarantined":
        quarantined = home.quarantine / "google_ads" / case.name
        error = json.loads((quarantined.parent / (case.name + ".error.json")).read_text())
        assert quarantined.read_bytes() == case.content
        assert case.reason in error["reason"]
        assert error["file"] == case.name
        assert not (home.source_inbox("google_ads") / case.name).exists()
    else:
        assert all(case.reason in r for r in reasons)
        archived = list((home.archive / "google_ads").glob(f"*__{case.name}"))
        assert len(archived) == 1 and archived[0].read_bytes() == case.content
    totals = report.to_metadata()
    assert totals["received"] == totals["loaded"] + totals["rejected"]
    if case.check is not None:
        case.check(con)
    assert totals["quarantined"] == (1 if case.status == "quarantined" else 0)
    if case.check is not None:
        case.check(con)


# ---- the other sources: each odd file beside a valid file of its source for the day before


def _defaults_are_zero(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(
        "select conversions, conversions_value from raw.google_ads where date_day = ?", [DAY]
    ).fetchall() == [(0.0, 0.0)]


def _ga4_line(day, seconds: int = 60, **extra) -> str:
    stamp = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + seconds
    event = {
        "event_date": day.strftime("%Y%m%d"),
        "event_timestamp": stamp * 1_000_000,
        "event_name": "page_view",
        "user_pseudo_id": f"{seconds}.1",
        "event_params": [{"key": "ga_session_id", "value": {"int_value": stamp}}],
    }
    event.update(extra)
    return json.dumps(event)


OFFLINE_HEADER = (
    "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency"
)
CONTACTS_HEADER = (
    "Contact ID,Email,Phone,Segment,Email Consent,Ads Consent,Unsubscribed,Create Date"
)
ASSETS_HEADER = (
    "asset_id,version,title,body,topic,format,channel_fit,compliance_status,brand_safe,"
    "regulated_claim,created_at"
)


def _valid(source: str, day) -> tuple[str, str, int]:
    """A valid file of ``source`` for ``day``: (name, text, rows)."""
    d = day.isoformat()
    if source == "ga4":
        return f"ga4_{d}.jsonl", "\n".join(_ga4_line(day, s) for s in (1, 2, 3)) + "\n", 3
    if source == "offline_conversions":
        text = (
            f"Parameters:TimeZone=Europe/Berlin\n{OFFLINE_HEADER}\nCj0A,won,{d} 12:00:00,10,EUR\n"
        )
        return f"offline_conversions_{d}.csv", text, 1
    if source == "crm_contacts":
        text = f"{CONTACTS_HEADER}\nC9,zed@example.com,,b2b_leads,true,true,false,{d} 08:00:00\n"
        return f"crm_contacts_{d}.csv", text, 1
    if source == "content_assets":
        text = f"{ASSETS_HEADER}\nA001,1,T,B,t,f,email,approved,true,false,{d} 00:00:00\n"
        return f"content_assets_{d}.csv", text, 1
    return f"google_ads_{d}.csv", google_csv(day, 3), 3


@dataclass
class SourceCase:
    id: str
    source: str
    name: str
    content: bytes
    status: str
    loaded: int = 0
    rejected: int = 0
    reason: str = ""
    field: str | None = None  # the rejects' (or error file's) field
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def _b(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


GA4_NAME = f"ga4_{D}.jsonl"
SOURCE_CASES = [
    SourceCase(
        "ga4_truncated_gzip",
        "ga4",
        GA4_NAME + ".gz",
        gzip.compress(_b(*(_ga4_line(DAY, s) for s in range(50))))[:-40],
        "quarantined",
        reason="gzip",
    ),
    SourceCase(
        "ga4_broken_json_line",
        "ga4",
        GA4_NAME,
        _b(_ga4_line(DAY, 1), '{"event_name": "page_vi', _ga4_line(DAY, 2)),
        "loaded",
        loaded=2,
        rejected=1,
        reason="invalid JSON",
        field="(row)",
    ),
    SourceCase(
        "ga4_line_not_an_object",
        "ga4",
        GA4_NAME,
        _b(_ga4_line(DAY, 1), "[1, 2, 3]"),
        "loaded",
        loaded=1,
        rejected=1,
        reason="not an object",
        field="(row)",
    ),
    SourceCase(
        "ga4_wrong_type_timestamp",
        "ga4",
        GA4_NAME,
        _b(_ga4_line(DAY, 1), _ga4_line(DAY, 2, event_timestamp="yesterday")),
        "loaded",
        loaded=1,
        rejected=1,
        reason="timestamp_micros",
        field="event_ts",
    ),
    SourceCase(
        "ga4_missing_required_user",
        "ga4",
        GA4_NAME,
        _b(_ga4_line(DAY, 1), _ga4_line(DAY, 2, user_pseudo_id=None)),
        "loaded",
        loaded=1,
        rejected=1,
        reason="required value missing",
        field="user_pseudo_id",
    ),
    SourceCase(
        "offline_unknown_time_zone",
        "offline_conversions",
        f"offline_conversions_{D}.csv",
        _b("Parameters:TimeZone=Mars/Olympus", OFFLINE_HEADER, f"Cj0,won,{D} 10:00:00,5,EUR"),
        "quarantined",
        reason="unknown time zone",
        field="TimeZone",
    ),
    SourceCase(
        "offline_without_time_zone_line_is_utc",
        "offline_conversions",
        f"offline_conversions_{D}.csv",
        _b(OFFLINE_HEADER, f"Cj0,won,{D} 10:00:00,5,EUR"),
        "loaded",
        loaded=1,
    ),
    SourceCase(
        "contacts_malformed_email_masked",
        "crm_contacts",
        f"crm_contacts_{D}.csv",
        _b(
            CONTACTS_HEADER,
            f"C1,ana@example.com,,loyal_customers,true,false,false,{D} 08:00:00",
            f"C2,bo at example dot com,,b2b_leads,true,true,false,{D} 08:00:00",
        ),
        "loaded",
        loaded=1,
        rejected=1,
        reason="not an email",
        field="contact_key",
    ),
    SourceCase(
        "contacts_bad_boolean",
        "crm_contacts",
        f"crm_contacts_{D}.csv",
        _b(CONTACTS_HEADER, f"C1,ana@example.com,,loyal_customers,maybe,false,false,{D} 08:00"),
        "loaded",
        rejected=1,
        reason="true/false",
        field="email_consent",
    ),
    SourceCase(
        "assets_version_zero",
        "content_assets",
        f"content_assets_{D}.csv",
        _b(ASSETS_HEADER, f"A002,0,T,B,t,f,email,approved,true,false,{D} 00:00:00"),
        "loaded",
        rejected=1,
        reason="below 1",
        field="version",
    ),
    SourceCase(
        "injection_in_a_header_is_an_ignored_column",
        "google_ads",
        NAME,
        _csv(GOOGLE_HEADER + ',"x""); DROP TABLE raw.google_ads; --"', *(v + ",1" for v in VALID)),
        "loaded",
        loaded=2,
    ),
    SourceCase(
        "injection_in_the_file_name",
        "google_ads",
        f"google_ads_{D}'; DROP TABLE raw.file_log; --.csv",
        _csv(GOOGLE_HEADER, *VALID),
        "loaded",
        loaded=2,
    ),
    SourceCase(
        "duplicate_header_first_wins",
        "google_ads",
        NAME,
        _csv(GOOGLE_HEADER + ",Cost", *(v + ",999999" for v in VALID)),
        "loaded",
        loaded=2,
        check=_spend_is(120.5),
    ),
    SourceCase(
        "utf16_without_bom",
        "google_ads",
        NAME,
        "\n".join([GOOGLE_HEADER, *VALID]).encode("utf-16-le"),
        "quarantined",
        reason="binary",
    ),
    SourceCase(
        "decimal_comma_in_semicolon_file",
        "google_ads",
        NAME,
        _csv(
            GOOGLE_HEADER.replace(",", ";"),
            f"{D};9000000101;x;1000;50;12,5;1;2,25;EUR",
        ),
        "loaded",
        loaded=1,
        check=_spend_is(12.5),
    ),
    SourceCase(
        "ui_double_dash_for_missing",
        "google_ads",
        NAME,
        _csv(GOOGLE_HEADER, f"{D},9000000101,x,1000,50,12.5,--,--,EUR"),
        "loaded",
        loaded=1,
        check=lambda con: _defaults_are_zero(con),
    ),
    SourceCase(
        "long_junk_value_truncated_in_reject",
        "google_ads",
        NAME,
        _csv(GOOGLE_HEADER, *VALID, f"{D},9000000199,x,{'9' * 5000}x,1,1.0,0,0,EUR"),
        "loaded",
        loaded=2,
        rejected=1,
        reason="int:",
        field="impressions",
    ),
]


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.id for c in SOURCE_CASES])
def test_other_sources_broken_input(case: SourceCase, home: DataHome, con) -> None:
    """Same contract for every source: documented status, counts that reconcile, the reason
    and field named, rejects never holding a raw email, and the valid file beside it loads."""
    valid_name, valid_text, valid_rows = _valid(case.source, PREV)
    drop(home, case.source, valid_name, valid_text)
    drop(home, case.source, case.name, case.content)

    report = ingest_source(home, con, case.source, PREV, DAY, PII_KEY)

    log = {
        name: (status, received, loaded, rejected)
        for name, status, received, loaded, rejected in con.execute(
            "select file_name, status, received, loaded, rejected from raw.file_log"
        ).fetchall()
    }
    assert log[valid_name] == ("loaded", valid_rows, valid_rows, 0)
    status, received, loaded, rejected = log[case.name]
    assert (status, loaded, rejected) == (case.status, case.loaded, case.rejected)
    assert received == loaded + rejected
    rejects = con.execute(
        "select field, reason, raw_value from raw.rejects where file_name = ?", [case.name]
    ).fetchall()
    assert len(rejects) == case.rejected
    for field_name, reason, raw_value in rejects:
        assert case.reason in reason and field_name == case.field
        assert raw_value is None or ("@" not in raw_value and len(raw_value) <= 200)
    if case.status == "quarantined":
        error = json.loads(
            (home.quarantine / case.source / (case.name + ".error.json")).read_text()
        )
        assert case.reason in error["reason"] and error["file"] == case.name
        if case.field:
            assert error["field"] == case.field
    totals = report.to_metadata()
    assert totals["received"] == totals["loaded"] + totals["rejected"]
    if case.check is not None:
        case.check(con)
