"""A corpus of broken and odd inputs: each has its documented outcome, and the valid file
dropped beside it in the same batch still arrives."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

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
    assert totals["quarantined"] == (1 if case.status == "quarantined" else 0)
    if case.check is not None:
        case.check(con)
