"""The hostile corpus (``hostile_corpus.py``: 51 broken or awkward files over eight inbox
folders and three days) dropped at once: every file gets its documented outcome, the file log
reconciles with the raw tables, and no valid row is lost."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hostile_corpus import LIMITS, WINDOW, CorpusFile, build
from signal_samples import PII_KEY

from marketing_ops.config import DataHome, data_home
from marketing_ops.signals import (
    RAW_TABLE_NAMES,
    SOURCES,
    file_log_discrepancies,
    ingest_source,
    plan_loads,
    scan_inbox,
)

STAYS_IN_INBOX = ("ignored", "waiting", "unknown folder")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The corpus written, the inbox scanned as `signals inbox` does, every source loaded
    (once for the module: the tests only read it, or re-run it to show nothing changes)."""
    root = tmp_path_factory.mktemp("hostile")
    home = data_home(root / "home").ensure()
    files = build(home, root / "elsewhere")
    scanned, _ = scan_inbox(home)
    plan = plan_loads(scanned, *WINDOW)
    con = duckdb.connect(str(home.warehouse))
    reports = {s: ingest_source(home, con, s, *WINDOW, PII_KEY, limits=LIMITS) for s in SOURCES}
    yield home, con, root, (files, reports, plan)
    con.close()


@pytest.fixture
def home(world) -> DataHome:
    return world[0]


@pytest.fixture
def con(world) -> duckdb.DuckDBPyConnection:
    return world[1]


@pytest.fixture
def loaded(world):
    return world[3]


def _log(con: duckdb.DuckDBPyConnection, f: CorpusFile) -> tuple | None:
    return con.execute(
        "select status, received, loaded, rejected, file_hash, archived_path from raw.file_log "
        "where source = ? and file_name = ? order by loaded_at desc limit 1",
        [f.source, f.name],
    ).fetchone()


def test_corpus_is_big_enough() -> None:
    from hostile_corpus import corpus

    files = corpus()
    assert len(files) >= 40 and len({(f.source, f.name) for f in files}) == len(files)


def test_every_file_gets_its_documented_outcome(home: DataHome, con, loaded) -> None:
    """Status and counts per file (received = loaded + rejected), rows still present after
    the re-exports, reasons in rejects and error files, the exact bytes kept in the archive
    or quarantine as regular files, and nothing left in the inbox but what must wait."""
    files, reports, _ = loaded
    for f in files:
        inbox_entry = home.source_inbox(f.source) / f.name
        if f.status in STAYS_IN_INBOX:
            assert inbox_entry.exists() and _log(con, f) is None, f.name
            continue
        status, received, n_loaded, rejected, file_hash, stored = _log(con, f)
        assert (status, n_loaded, rejected) == (f.status, f.loaded, f.rejected), f.name
        assert received == n_loaded + rejected
        assert not inbox_entry.exists() and not inbox_entry.is_symlink(), f.name
        assert Path(stored).is_file() and not Path(stored).is_symlink()
        assert Path(stored).read_bytes() == f.content, f.name
        if f.status == "duplicate":
            continue
        table = RAW_TABLE_NAMES[f.source]
        present = con.execute(f"select count(*) from {table} where _file_hash = ?", [file_hash])
        assert present.fetchone()[0] == f.rows_left, f.name
        reasons = con.execute("select reason from raw.rejects where file_hash = ?", [file_hash])
        assert all(f.reason in r for (r,) in reasons.fetchall()), f.name
        if f.status == "quarantined":
            error = json.loads(Path(stored + ".error.json").read_text())
            assert error["file"] == f.name and f.reason in error["reason"], (f.name, error)


def test_the_file_log_reconciles_and_no_valid_row_is_lost(con, loaded) -> None:
    """For every source: each loaded row is in the raw table or recorded as replaced by a
    later row with its key; the raw table holds exactly the rows the corpus says are left."""
    files, _, _ = loaded
    for source in SOURCES:
        assert file_log_discrepancies(con, source) == [], source
        left = sum(
            f.rows_left
            for f in files
            if f.source == source and f.status in ("loaded", "superseded")
        )
        table = RAW_TABLE_NAMES[source]
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == left, source


def test_re_exports_replace_exactly_their_keys(con, loaded) -> None:
    """The newest row of each key wins; keys only the older file had stay; each replaced row
    names the file that replaced it."""
    spend = dict(
        con.execute(
            "select campaign_id, spend from raw.google_ads where date_day = ?", [WINDOW[1]]
        ).fetchall()
    )
    assert spend["101"] == spend["102"] == 11.5 and spend["202"] == 99.0 and spend["201"] == 10.0
    assert sorted(spend) == sorted(
        ["101", "102", "201", "202", "301", *(str(400 + i) for i in range(1, 7))]
    )
    replaced = con.execute(
        "select file_name, by_file_name from raw.replaced_rows where source = 'google_ads' order by 1, 2"
    ).fetchall()
    d = WINDOW[1]
    assert replaced == [
        (f"google_ads_{d}_display.csv", f"google_ads_{d}_display_fix.csv"),
        (f"google_ads_{d}_search.csv", f"google_ads_{d}_search_v2.csv"),
        (f"google_ads_{d}_search.csv", f"google_ads_{d}_search_v2.csv"),
    ]
    counted = con.execute(
        "select file_name, replaced from raw.file_log where source = 'google_ads' and replaced > 0 order by 1"
    ).fetchall()
    assert counted == [(f"google_ads_{d}_display_fix.csv", 1), (f"google_ads_{d}_search_v2.csv", 2)]


def test_quarantine_and_waiting_files_are_warnings_not_failures(loaded) -> None:
    """The run reports each quarantined file and the one still being written, with reasons,
    and loads every other file (of every day) regardless."""
    files, reports, plan = loaded
    report = reports["google_ads"]
    warned = {w.split(": ")[0] for w in report.warnings}
    expected = {
        f.name for f in files if f.source == "google_ads" and f.status in ("quarantined", "waiting")
    }
    assert warned == expected
    assert {f.day for f in report.files if f.status == "loaded"} >= {
        WINDOW[1],
        WINDOW[1].fromordinal(WINDOW[1].toordinal() - 1),
    }
    waits = dict(plan.waiting)
    assert "unknown source folder 'tiktok_ads'" in waits[f"tiktok_ads/tiktok_ads_{WINDOW[1]}.csv"]


def test_a_second_run_changes_nothing(home: DataHome, con, loaded) -> None:
    """Re-running the window rebuilds the same rows from the archive, and still reconciles."""

    def snapshot() -> dict[str, list]:
        return {
            s: sorted(
                map(
                    str,
                    con.execute(
                        f"select * exclude (_loaded_at) from {RAW_TABLE_NAMES[s]}"
                    ).fetchall(),
                )
            )
            for s in SOURCES
        }

    before = snapshot()
    for source in SOURCES:
        ingest_source(home, con, source, *WINDOW, PII_KEY, limits=LIMITS)
    assert snapshot() == before
    for source in SOURCES:
        assert file_log_discrepancies(con, source) == []


def test_symlinked_file_is_copied_and_its_target_left_alone(world, loaded) -> None:
    """The archive holds the target's bytes as a regular file (checked above); the link
    left the inbox and its target is untouched."""
    files, _, _ = loaded
    (linked,) = [f for f in files if f.symlink]
    target = world[2] / "elsewhere" / linked.name
    assert target.read_bytes() == linked.content
