"""A corpus of broken and odd inputs, one row of a table each: the file, the status the file
log must give it, its loaded/rejected counts, and the reason (and field) it must name. Every
case runs beside a valid file of its source for the day before, which must still load whole."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from signal_samples import DAY, GOOGLE_HEADER, PII_KEY, PREV, drop, google_csv, google_rows

from marketing_ops.config import DataHome
from marketing_ops.signals import ingest_source

D = DAY.isoformat()
NAME = f"google_ads_{D}.csv"
GA4_NAME = f"ga4_{D}.jsonl"
VALID = google_rows(DAY)
FUTURE = (DAY + timedelta(days=4000)).isoformat()
ANCIENT = (DAY - timedelta(days=6 * 365)).isoformat()
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
Check = Callable[[duckdb.DuckDBPyConnection], None]


def _lines(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _ga4_line(day: date, seconds: int = 60, **extra) -> str:
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


def _valid(source: str, day: date) -> tuple[str, bytes, int]:
    """A valid file of ``source`` for ``day``: (name, content, rows)."""
    d = day.isoformat()
    if source == "ga4":
        return f"ga4_{d}.jsonl", _lines(*(_ga4_line(day, s) for s in (1, 2, 3))), 3
    if source == "offline_conversions":
        text = _lines(
            "Parameters:TimeZone=Europe/Berlin", OFFLINE_HEADER, f"Cj0A,won,{d} 12:00:00,10,EUR"
        )
        return f"offline_conversions_{d}.csv", text, 1
    if source == "crm_contacts":
        row = f"C9,zed@example.com,,b2b_leads,true,true,false,{d} 08:00:00"
        return f"crm_contacts_{d}.csv", _lines(CONTACTS_HEADER, row), 1
    if source == "content_assets":
        row = f"A001,1,T,B,t,f,email,approved,true,false,{d} 00:00:00"
        return f"content_assets_{d}.csv", _lines(ASSETS_HEADER, row), 1
    return f"google_ads_{d}.csv", google_csv(day, 3).encode(), 3


def _spend_is(value: float) -> Check:
    def check(con: duckdb.DuckDBPyConnection) -> None:
        spends = con.execute(
            "select spend from raw.google_ads where date_day = ? order by campaign_id", [DAY]
        ).fetchall()
        assert spends and all(abs(s - value) < 1e-9 for (s,) in spends)

    return check


def _injection_stored(con: duckdb.DuckDBPyConnection) -> None:
    names = {n for (n,) in con.execute("select campaign_name from raw.google_ads").fetchall()}
    assert "'); DROP TABLE raw.google_ads; --" in names


def _names_are(names: set[str]) -> Check:
    def check(con: duckdb.DuckDBPyConnection) -> None:
        found = con.execute("select campaign_name from raw.google_ads where date_day = ?", [DAY])
        assert {n for (n,) in found.fetchall()} == names

    return check


def _defaults_are_zero(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(
        "select conversions, conversions_value from raw.google_ads where date_day = ?", [DAY]
    ).fetchall() == [(0.0, 0.0)]


@dataclass(frozen=True)
class Case:
    """One odd input and what must happen to it."""

    id: str
    content: bytes
    status: str  # file_log status of the odd file
    loaded: int = 0
    rejected: int = 0
    reason: str = ""  # in every reject reason, or in the quarantine error
    field: str | None = None  # the rejects' (or the error file's) field, when it matters
    source: str = "google_ads"
    name: str = NAME
    check: Check | None = None


def loads(id: str, content: bytes, loaded: int, **more) -> Case:
    return Case(id, content, "loaded", loaded, **more)


def bad_row(id: str, row: str, reason: str, field: str | None = None) -> Case:
    """The two valid Google Ads rows load; ``row`` beside them is rejected for ``reason``."""
    return Case(id, _lines(GOOGLE_HEADER, *VALID, row), "loaded", 2, 1, reason, field)


def quarantined(id: str, content: bytes, reason: str, **more) -> Case:
    return Case(id, content, "quarantined", reason=reason, **more)


def _ga4(*lines: str) -> bytes:
    return _lines(*lines)


VALID_CSV = _lines(GOOGLE_HEADER, *VALID)
VALID_GZ = gzip.compress(VALID_CSV)
LATIN1 = (GOOGLE_HEADER + "\n" + VALID[0].replace("brand", "marqué") + "\n").encode("latin-1")
INJECTION_ROW = f'{D},9000000101,"\'); DROP TABLE raw.google_ads; --",1000,50,1.0,0,0,EUR'
TOTALS = "Total: Account,--,--,2000,100,241.00,6,480.0,EUR"
MICROS_HEADER = "date,id,name,impressions,clicks,cost_micros,conversions,conversions_value"
UI_HEADER = "Day,Campaign ID,Campaign,Impr.,Clicks,Cost (EUR),Currency code"
GA4_GZ = gzip.compress(_lines(*(_ga4_line(DAY, s) for s in range(50))))
OFFLINE = dict(source="offline_conversions", name=f"offline_conversions_{D}.csv")
CONTACTS = dict(source="crm_contacts", name=f"crm_contacts_{D}.csv")
GA4 = dict(source="ga4", name=GA4_NAME)

CASES = [
    # ---- readable shapes of a Google Ads export
    loads("plain", VALID_CSV, 2),
    loads("semicolon", VALID_CSV.replace(b",", b";"), 2),
    loads("tab", VALID_CSV.replace(b",", b"\t"), 2),
    loads("utf8_bom", b"\xef\xbb\xbf" + VALID_CSV, 2),
    loads("utf16_bom", VALID_CSV.decode().rstrip("\n").encode("utf-16"), 2),
    loads("crlf", VALID_CSV.rstrip(b"\n").replace(b"\n", b"\r\n"), 2),
    loads("gzip", VALID_GZ, 2, name=NAME + ".gz"),
    loads("header_only", _lines(GOOGLE_HEADER), 0),
    loads("extra_column_tolerated", _lines(GOOGLE_HEADER + ",Ad network", *(v + ",Search" for v in VALID)), 2),
    loads("sql_injection_text_verbatim", _lines(GOOGLE_HEADER, INJECTION_ROW), 1, check=_injection_stored),
    loads("ui_title_line_and_total_rows", _lines("Campaign performance report", '"All time"', GOOGLE_HEADER, *VALID, TOTALS, TOTALS.replace("Account", "Search")), 2),
    loads("cost_micros_variant", _lines(MICROS_HEADER, f"{D},9935249409,SEARCH | brand,166,49,36150000,0,0"), 1, check=_spend_is(36.15)),
    loads("ui_cost_in_eur_with_thousands", _lines(UI_HEADER, f'{D},9000000101,x,"12,000",50,"1,234.50",EUR'), 1, check=_spend_is(1234.5)),
    loads("injection_in_a_header_is_an_ignored_column", _lines(GOOGLE_HEADER + ',"x""); DROP TABLE raw.google_ads; --"', *(v + ",1" for v in VALID)), 2),
    loads("injection_in_the_file_name", VALID_CSV, 2, name=f"google_ads_{D}'; DROP TABLE raw.file_log; --.csv"),
    quarantined("duplicated_header_name", _lines(GOOGLE_HEADER + ",Cost", *(v + ",999999" for v in VALID)), "duplicated header name 'Cost'", field="Cost"),
    loads("decimal_comma_in_semicolon_file", _lines(GOOGLE_HEADER.replace(",", ";"), f"{D};9000000101;x;1000;50;12,5;1;2,25;EUR"), 1, check=_spend_is(12.5)),
    loads("ui_double_dash_for_missing", _lines(GOOGLE_HEADER, f"{D},9000000101,x,1000,50,12.5,--,--,EUR"), 1, check=_defaults_are_zero),
    # ---- one bad row beside two good ones
    bad_row("wrong_types", f"{D},9000000199,x,lots,50,1.0,0,0,EUR", "int:"),
    bad_row("truncated_last_row", f"{D},9000000199,SEARCH | br", "fields"),
    bad_row("future_date", f"{FUTURE},9000000199,x,10,1,1.0,0,0,EUR", "future"),
    bad_row("more_than_5_years_back", f"{ANCIENT},9000000199,x,10,1,1.0,0,0,EUR", "5 years"),
    bad_row("unparseable_date", "yesterday-ish,9000000199,x,10,1,1.0,0,0,EUR", "date"),
    bad_row("negative_spend", f"{D},9000000199,x,10,1,-4.0,0,0,EUR", "negative"),
    bad_row("clicks_over_impressions", f"{D},9000000199,x,10,11,4.0,0,0,EUR", "clicks > impressions"),
    bad_row("unknown_currency", f"{D},9000000199,x,10,1,4.0,0,0,XBT", "unknown currency"),
    bad_row("missing_required_value", f"{D},,x,10,1,4.0,0,0,EUR", "required value missing"),
    bad_row("long_junk_value_truncated_in_reject", f"{D},9000000199,x,{'9' * 5000}x,1,1.0,0,0,EUR", "int:", "impressions"),
    # ---- whole files that cannot be read
    quarantined("truncated_gzip", VALID_GZ[: len(VALID_GZ) // 2], "gzip", name=NAME + ".gz"),
    loads("windows_1252_from_excel", LATIN1, 1, check=_names_are({"SEARCH | marqué 0"})),
    quarantined("binary_junk", bytes(range(256)) * 8, "binary"),
    quarantined("empty", b"", "empty file"),
    quarantined("whitespace_only", b"\n \n\t\n", "empty file"),
    quarantined("missing_required_column", _lines("Day,Campaign ID,Campaign,Impressions,Cost", f"{D},9000000101,x,1000,12.0"), "required column missing: clicks"),
    quarantined("utf16_without_bom", VALID_CSV.decode().rstrip("\n").encode("utf-16-le"), "binary"),
    # ---- the other sources
    quarantined("ga4_truncated_gzip", GA4_GZ[:-40], "gzip", source="ga4", name=GA4_NAME + ".gz"),
    Case("ga4_broken_json_line", _ga4(_ga4_line(DAY, 1), '{"event_name": "page_vi', _ga4_line(DAY, 2)), "loaded", 2, 1, "invalid JSON", "(row)", **GA4),
    Case("ga4_line_not_an_object", _ga4(_ga4_line(DAY, 1), "[1, 2, 3]"), "loaded", 1, 1, "not an object", "(row)", **GA4),
    Case("ga4_wrong_type_timestamp", _ga4(_ga4_line(DAY, 1), _ga4_line(DAY, 2, event_timestamp="yesterday")), "loaded", 1, 1, "timestamp_micros", "event_ts", **GA4),
    Case("ga4_missing_required_user", _ga4(_ga4_line(DAY, 1), _ga4_line(DAY, 2, user_pseudo_id=None)), "loaded", 1, 1, "required value missing", "user_pseudo_id", **GA4),
    quarantined("offline_unknown_time_zone", _lines("Parameters:TimeZone=Mars/Olympus", OFFLINE_HEADER, f"Cj0,won,{D} 10:00:00,5,EUR"), "unknown time zone", field="TimeZone", **OFFLINE),
    loads("offline_without_time_zone_line_is_utc", _lines(OFFLINE_HEADER, f"Cj0,won,{D} 10:00:00,5,EUR"), 1, **OFFLINE),
    Case("contacts_malformed_email_masked", _lines(CONTACTS_HEADER, f"C1,ana@example.com,,loyal_customers,true,false,false,{D} 08:00:00", f"C2,bo at example dot com,,b2b_leads,true,true,false,{D} 08:00:00"), "loaded", 1, 1, "not an email", "contact_key", **CONTACTS),
    Case("contacts_bad_boolean", _lines(CONTACTS_HEADER, f"C1,ana@example.com,,loyal_customers,maybe,false,false,{D} 08:00"), "loaded", 0, 1, "true/false", "email_consent", **CONTACTS),
    Case("assets_version_zero", _lines(ASSETS_HEADER, f"A002,0,T,B,t,f,email,approved,true,false,{D} 00:00:00"), "loaded", 0, 1, "below 1", "version", source="content_assets", name=f"content_assets_{D}.csv"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input_has_documented_outcome(case: Case, home: DataHome, con) -> None:
    """The odd file gets its documented status and counts (received = loaded + rejected, as
    many rows in the raw table as loaded), every reject names the reason and field and never
    a raw email; an unreadable file is quarantined whole with an error file, a readable one
    archived byte for byte; the valid file beside it loads in full."""
    valid_name, valid_content, valid_rows = _valid(case.source, PREV)
    drop(home, case.source, valid_name, valid_content)
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
    table = "raw.ga4_events" if case.source == "ga4" else f"raw.{case.source}"
    in_table = con.execute(f"select count(*) from {table} where _file_name = ?", [case.name])
    assert in_table.fetchone()[0] == case.loaded
    _assert_rejects(con, case)
    _assert_file_kept(home, case)
    totals = report.to_metadata()
    assert totals["received"] == totals["loaded"] + totals["rejected"]
    assert totals["quarantined"] == (1 if case.status == "quarantined" else 0)
    if case.check is not None:
        case.check(con)


def _assert_rejects(con: duckdb.DuckDBPyConnection, case: Case) -> None:
    rejects = con.execute(
        "select field, reason, raw_value from raw.rejects where file_name = ?", [case.name]
    ).fetchall()
    assert len(rejects) == case.rejected
    for field_name, reason, raw_value in rejects:
        assert case.reason in reason
        assert case.field is None or field_name == case.field
        assert raw_value is None or ("@" not in raw_value and len(raw_value) <= 200)


def _assert_file_kept(home: DataHome, case: Case) -> None:
    if case.status == "quarantined":
        quarantined_file = home.quarantine / case.source / case.name
        error = json.loads(quarantined_file.with_name(case.name + ".error.json").read_text())
        assert quarantined_file.read_bytes() == case.content
        assert case.reason in error["reason"] and error["file"] == case.name
        assert case.field is None or error["field"] == case.field
        assert not (home.source_inbox(case.source) / case.name).exists()
    else:
        archived = list((home.archive / case.source).glob(f"*__{case.name}"))
        assert len(archived) == 1 and archived[0].read_bytes() == case.content
