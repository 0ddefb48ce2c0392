"""Bulk-validated files staged inside the commit transaction lose no row.

Every run rebuilds the window's loaded files from the archive, and it stages those files
inside the commit transaction, where DuckDB numbers a temporary table's rows from 2**55, not
0. Line numbers come from those row numbers, so each scenario here runs several times into
two data homes, once with bulk validation forced (``bulk_min_bytes=1``) and once with Python
only, and checks the row counts, the lines of rows and rejects, and that the file log
reconciles (received = loaded + rejected, every loaded row present or replaced).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from signal_samples import DAY, GOOGLE_HEADER, PII_KEY, drop
from test_bulk import META_HEADER, _event, _lines, _meta_row

from marketing_ops.config import data_home
from marketing_ops.signals import ingest_source, parse_signal_file
from marketing_ops.signals.currency import FxRates, Reporting
from marketing_ops.signals.ingest.validate import _lines as file_lines
from marketing_ops.signals.readers import decode_bytes
from marketing_ops.signals.store import (
    RAW_TABLE_NAMES,
    ensure_raw_schema,
    file_log_discrepancies,
    replace_file_rows,
)

D = DAY.isoformat()
MODES = {"bulk": 1, "python": 10**15}  # bulk_min_bytes: every file in bulk / none


def _google(rows: list[tuple[str, str, str]]) -> bytes:
    """A Google Ads export of (campaign id, campaign, clicks) rows for DAY."""
    lines = [f"{D},{cid},{name},1000,{clicks},120.5,3,240.0,EUR" for cid, name, clicks in rows]
    return ("\n".join([GOOGLE_HEADER, *lines]) + "\n").encode()


# Line 2-4 plain, line 5 valid but left to Python (padded text), line 6 rejected (clicks).
FIRST = _google(
    [
        ("9000000101", "SEARCH | a", "50"),
        ("9000000102", "SEARCH | b", "50"),
        ("9000000103", "SEARCH | c", "50"),
        ("9000000104", " SEARCH | padded ", "50"),
        ("9000000105", "SEARCH | e", "many"),
    ]
)
# A re-export: keys 101 and 104 again, a new key 109, a reject on line 5.
REEXPORT = _google(
    [
        ("9000000101", "SEARCH | a", "70"),
        (" 9000000104", "SEARCH | d", "70"),
        ("9000000109", "SEARCH | new", "70"),
        ("9000000110", "SEARCH | bad", "-3"),
    ]
)


class _Homes:
    """The same drops and runs in two data homes: bulk forced, and Python only."""

    def __init__(self, tmp_path: Path, source: str, **kwargs) -> None:
        self.source, self.kwargs = source, kwargs
        self.homes = {m: data_home(tmp_path / m).ensure() for m in MODES}
        self.cons = {m: duckdb.connect(str(h.warehouse)) for m, h in self.homes.items()}

    def drop(self, name: str, content: bytes) -> None:
        for home in self.homes.values():
            drop(home, self.source, name, content)

    def run(self) -> dict:
        """One ingest in each home; the bulk home's report and state, checked against the
        Python home's."""
        states = {}
        for mode, threshold in MODES.items():
            con = self.cons[mode]
            report = ingest_source(
                self.homes[mode],
                con,
                self.source,
                DAY,
                DAY,
                PII_KEY,
                bulk_min_bytes=threshold,
                **self.kwargs,
            )
            assert file_log_discrepancies(con, self.source) == []
            states[mode] = {"report": report, **_state(con, self.source)}
        bulk, python = states["bulk"], states["python"]
        for part in ("rows", "rejects", "replaced", "log"):
            assert bulk[part] == python[part], part
        assert {f.validated for f in bulk["report"].files if f.received} == {"bulk"}
        return bulk

    def close(self) -> None:
        for con in self.cons.values():
            con.close()


def _state(con: duckdb.DuckDBPyConnection, source: str) -> dict:
    table = RAW_TABLE_NAMES[source]
    log = con.execute(
        "select file_name, status, received, loaded, rejected, replaced from raw.file_log "
        "where status in ('loaded', 'superseded') order by file_name"
    ).fetchall()
    for _, _, received, loaded, rejected, _ in log:
        assert received == loaded + rejected
    return {
        "rows": con.execute(
            f"select * exclude (_loaded_at, _file_hash) from {table} order by _file_name, _line"
        ).fetchall(),
        "lines": con.execute(
            f"select _file_name, list(_line order by _line) from {table} group by 1 order by 1"
        ).fetchall(),
        "rejects": con.execute(
            "select file_name, line, field from raw.rejects order by file_name, line"
        ).fetchall(),
        "replaced": con.execute(
            "select file_name, line, by_file_name from raw.replaced_rows order by file_name, line"
        ).fetchall(),
        "log": log,
    }


def test_same_google_ads_file_again_rebuilds_from_the_archive_in_bulk(tmp_path: Path) -> None:
    """The first run stages the new file before the transaction; the re-run (and the run
    after the same bytes arrive again, a duplicate) re-read it from the archive inside it."""
    homes = _Homes(tmp_path, "google_ads")
    name = f"google_ads_{D}.csv"
    try:
        homes.drop(name, FIRST)
        expected = None
        for step in ("new", "rerun", "duplicate"):
            if step == "duplicate":
                homes.drop(f"google_ads_{D}_again.csv", FIRST)
            state = homes.run()
            statuses = sorted(f.status for f in state["report"].files)
            assert (
                statuses
                == {
                    "new": ["loaded"],
                    "rerun": ["reloaded"],
                    "duplicate": ["duplicate", "reloaded"],
                }[step]
            )
            assert state["lines"] == [(name, [2, 3, 4, 5])]
            assert state["rejects"] == [(name, 6, "clicks")]
            assert state["log"] == [(name, "loaded", 5, 4, 1, 0)]
            expected = expected or state["rows"]
            assert state["rows"] == expected
    finally:
        homes.close()


def test_reexport_replaces_its_keys_when_staged_inside_the_transaction(tmp_path: Path) -> None:
    """A re-export loaded the run after the first file (which is then re-read in the
    transaction), then both re-read: the re-export's keys replace the earlier rows, lines of
    rows, replaced rows and rejects are the files' own, and every file reconciles."""
    homes = _Homes(tmp_path, "google_ads")
    first, again = f"google_ads_{D}.csv", f"google_ads_{D}_reexport.csv"
    try:
        homes.drop(first, FIRST)
        homes.run()
        homes.drop(again, REEXPORT)
        for _ in ("reexport", "rerun"):
            state = homes.run()
            assert state["lines"] == [(first, [3, 4]), (again, [2, 3, 4])]
            assert state["replaced"] == [(first, 2, again), (first, 5, again)]
            assert state["rejects"] == [(first, 6, "clicks"), (again, 5, "clicks")]
            assert state["log"] == [(first, "loaded", 5, 4, 1, 0), (again, "loaded", 4, 3, 1, 2)]
            assert len(state["rows"]) == 5
    finally:
        homes.close()


def test_ga4_and_meta_rerun_in_bulk(tmp_path: Path) -> None:
    """JSON lines (lines from 1) and a CSV with a currency to convert (the rates join and
    its update of the stage) re-read inside the transaction keep their lines too."""
    ga4 = _Homes(tmp_path / "ga4", "ga4")
    rates = FxRates("EUR", 7, "test rates", {"USD": ([DAY], [1.25])})
    meta = _Homes(tmp_path / "meta", "meta_ads", reporting=Reporting("EUR", "UTC", rates))
    try:
        ga4.drop(
            f"ga4_{D}.jsonl",
            _lines(_event(), _event(seconds=5, user_pseudo_id=" 7.8 "), _event(event_date="x")),
        )
        meta_rows = [_meta_row(), _meta_row(currency="USD"), _meta_row(currency="GBP")]
        meta.drop(f"meta_ads_{D}.csv", ("\n".join([META_HEADER, *meta_rows]) + "\n").encode())
        for _ in ("new", "rerun"):
            state = ga4.run()
            assert state["lines"] == [(f"ga4_{D}.jsonl", [1, 2])]
            assert [r[:2] for r in state["rejects"]] == [(f"ga4_{D}.jsonl", 3)]
            state = meta.run()
            assert state["lines"] == [(f"meta_ads_{D}.csv", [2, 3])]
            assert [r[:2] for r in state["rejects"]] == [(f"meta_ads_{D}.csv", 4)]
    finally:
        ga4.close()
        meta.close()


def test_rows_staged_inside_a_transaction_keep_their_lines(tmp_path: Path) -> None:
    """Staged in an open transaction (DuckDB numbers those rows from 2**55), the rows the
    SQL leaves to Python and the rows it inserts still carry their file's line numbers."""
    home = data_home(tmp_path / "home").ensure()
    path = tmp_path / f"google_ads_{D}.csv"
    data = _google(
        [
            ("9000000101", "SEARCH | a", "50"),
            ("9000000102", " SEARCH | padded ", "50"),
            ("9000000103", "SEARCH | c", "50"),
        ]
    )
    path.write_bytes(data)
    con = duckdb.connect(str(home.warehouse))
    try:
        ensure_raw_schema(con)
        con.execute("BEGIN TRANSACTION")
        parsed = parse_signal_file(
            "google_ads", data, path.name, PII_KEY, con=con, path=path, bulk_min_bytes=1
        )
        assert parsed.staged is not None
        assert parsed.staged.leftover_lines == [3]
        assert [r[-2] for r in parsed.rows] == [3]
        replace_file_rows(
            con,
            "google_ads",
            ["h"],
            sorted(parsed.days),
            parsed.rows,
            [],
            datetime.now(UTC).replace(tzinfo=None),
            staged=[(parsed.staged, "h", path.name)],
        )
        lines = con.execute("select _line, campaign_id from raw.google_ads order by 1").fetchall()
        con.execute("COMMIT")
    finally:
        con.close()
    assert lines == [(2, "9000000101"), (3, "9000000102"), (4, "9000000103")]


@pytest.mark.parametrize(
    "data",
    [
        b"h\na\nb\nc\n",
        b"h\r\na\r\nb\r\nc",  # CRLF, no newline at the end
        "h\na\n\u00d6sterreich\nc\n".encode(),  # not ASCII: decoded whole
        gzip.compress(b"h\na\nb\nc\n", mtime=0),  # fixed header: one test id on every worker
        b"\xef\xbb\xbfh\na\nb\nc\n",  # BOM
        "h\na\nb\xe9\nc\n".encode("cp1252"),  # not UTF-8: Windows-1252, as decode_bytes reads it
    ],
    ids=["lf", "crlf-no-final-newline", "not-ascii", "gzip", "bom", "cp1252"],
)
def test_leftover_lines_are_the_lines_of_the_decoded_text(data: bytes) -> None:
    """The lines the SQL leaves to Python are cut from the bytes exactly as the decoded text
    splits (a line number always names the same text)."""
    expected = decode_bytes(data).split("\n")
    for numbers in ([1], [2, 4], [1, 2, 3, 4], [4]):
        assert list(file_lines(data, numbers)) == [(n, expected[n - 1]) for n in numbers]
