"""Inbox to raw tables: one source, a window of days, nothing lost, safe to re-run.

For each file in ``inbox/<source>/`` whose day falls in the window:

- identical content seen before (same sha256) -> ``duplicate``, a no-op;
- unreadable -> moved whole to ``quarantine/<source>/`` with ``<name>.error.json``;
- otherwise its rows are validated (bad rows to ``raw.rejects``), it becomes the current file
  of its day (an earlier current file of that day becomes ``superseded``) and it is archived
  as ``archive/<source>/<sha256>__<name>``.

Then every current file of the window's days (new or archived) is parsed and its rows replace
what the raw table held for it, in one transaction: a re-run rebuilds the same rows.

The day of a file is the date inside it: the name's ``_YYYY-MM-DD`` when rows carry that day,
else the latest day its rows carry. Rows keep their own day (``partition_date``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.bulk import drop_staged
from marketing_ops.signals.currency import Reporting, load_reporting
from marketing_ops.signals.ingest.files import (
    archive_path,
    inbox_files,
    move_to_archive,
    quarantine,
)
from marketing_ops.signals.ingest.read import file_hash as content_hash
from marketing_ops.signals.ingest.read import name_day
from marketing_ops.signals.ingest.validate import BULK_MIN_BYTES, ParsedFile, parse_signal_file
from marketing_ops.signals.readers import UnreadableFile
from marketing_ops.signals.rows import scrub
from marketing_ops.signals.sources import SOURCES, SourcesConfig, load_sources
from marketing_ops.signals.store import FILE_LOG_TABLE, ensure_raw_schema, replace_file_rows

__all__ = ["FileOutcome", "IngestReport", "ingest_source"]


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file in one run."""

    file_name: str
    file_hash: str
    day: date | None
    received: int
    loaded: int
    rejected: int
    status: str  # loaded | reloaded | quarantined | duplicate | superseded
    validated: str = ""  # "bulk" (in DuckDB, leftovers in Python) or "python"
    reason: str = ""  # why a file was quarantined (as in its error file)


@dataclass
class IngestReport:
    """Per-file outcomes of one ``ingest_source`` call, with totals for run metadata."""

    source: str
    start: date
    end: date
    files: list[FileOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def received(self) -> int:
        return sum(f.received for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def to_metadata(self) -> dict[str, int]:
        """Small totals for Dagster metadata (received = loaded + rejected)."""
        return {
            "files": len(self.files),
            "received": self.received,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "quarantined": self._count("quarantined"),
            "duplicates": self._count("duplicate"),
            "superseded": self._count("superseded"),
        }


@dataclass(frozen=True)
class _Run:
    """One ``ingest_source`` call: where, what, and how files are parsed."""

    home: DataHome
    con: duckdb.DuckDBPyConnection
    source: str
    start: date
    end: date
    pii_key: bytes
    today: date
    config: SourcesConfig
    reporting: Reporting
    bulk_min_bytes: int
    now: datetime

    def parse(self, data: bytes, name: str, path: Path, file_hash: str | None = None) -> ParsedFile:
        return parse_signal_file(
            self.source,
            data,
            name,
            self.pii_key,
            self.today,
            self.config,
            reporting=self.reporting,
            con=self.con,
            path=path,
            bulk_min_bytes=self.bulk_min_bytes,
            file_hash=file_hash,
        )

    def in_window(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def archived(self, file_hash: str, name: str) -> Path:
        return archive_path(self.home, self.source, file_hash, name)


@dataclass
class _Batch:
    """The inbox sorted: new readable files, duplicates, unreadable ones, and then every
    current file of the window that is (re)loaded."""

    new: list[tuple[Path, ParsedFile]] = field(default_factory=list)
    duplicates: list[tuple[Path, str, date | None, str]] = field(default_factory=list)
    quarantined: list[tuple[Path, str, UnreadableFile]] = field(default_factory=list)
    to_load: list[ParsedFile] = field(default_factory=list)


def ingest_source(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    source: str,
    start: date,
    end: date,
    pii_key: bytes,
    *,
    today: date | None = None,
    reporting: Reporting | None = None,
    bulk_min_bytes: int = BULK_MIN_BYTES,
) -> IngestReport:
    """Load ``source``'s files for the days ``start``..``end`` (inclusive) into ``raw.*``.

    ``today`` anchors the sense checks (future dates, more than 5 years back); it defaults to
    the current UTC date and exists so historical samples can be replayed. ``reporting`` (the
    reporting currency, its rates and the time zone) defaults to the data home's
    ``reference/``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    run = _Run(
        home,
        con,
        source,
        start,
        end,
        pii_key,
        today or datetime.now(UTC).date(),
        load_sources(),
        reporting or load_reporting(home.reference),
        bulk_min_bytes,
        datetime.now(UTC).replace(tzinfo=None),
    )
    ensure_raw_schema(con)
    report = IngestReport(source, start, end)
    batch = _Batch()
    try:
        _sort_inbox(run, batch)
        _commit(run, batch, report)
    finally:
        for parsed in [*(p for _, p in batch.new), *batch.to_load]:
            _discard(con, parsed)
    _report_loaded(report, batch)
    # Files move only after the commit: a crash in between leaves them in the inbox, where the
    # next run sees their hash in the file log and treats them as duplicates.
    _move_files(run, batch)
    return report


def _known_files(run: _Run) -> dict[str, tuple[date | None, str]]:
    """Hash -> (day, archived path) of every file this source already loaded."""
    return {
        h: (day, archived)
        for h, day, archived in run.con.execute(
            f"SELECT file_hash, partition_date, archived_path FROM {FILE_LOG_TABLE} "
            "WHERE source = ? AND status IN ('loaded', 'superseded') ORDER BY loaded_at",
            [run.source],
        ).fetchall()
    }


def _sort_inbox(run: _Run, batch: _Batch) -> None:
    """Read each inbox file once: a known hash is a duplicate, an unreadable file waits for
    quarantine, a readable one of the window is new; other days' files stay for their run."""
    known = _known_files(run)
    for path in inbox_files(run.home, run.source):
        data = path.read_bytes()
        file_hash = content_hash(data)
        if file_hash in known:
            day, archived = known[file_hash]
            if run.in_window(day):
                batch.duplicates.append((path, file_hash, day, archived))
            continue
        try:
            parsed = run.parse(data, path.name, path, file_hash)
        except UnreadableFile as error:
            hint = name_day(path.name)
            if hint is None or run.in_window(hint):
                batch.quarantined.append((path, file_hash, error))
            continue
        if parsed.day is not None and not run.in_window(parsed.day):
            _discard(run.con, parsed)
            continue  # its own day's run will take it
        # A file with no valid row and no date in its name belongs to no day: any run
        # takes it, so its rejects are recorded rather than left waiting forever.
        known[file_hash] = (parsed.day, str(run.archived(file_hash, path.name)))
        batch.new.append((path, parsed))


def _commit(run: _Run, batch: _Batch, report: IngestReport) -> None:
    """Log the files and replace the window's rows, in one transaction."""
    con, source = run.con, run.source
    con.execute("BEGIN TRANSACTION")
    try:
        superseded = _log_files(run, batch, report)
        batch.to_load = _current_files(run, batch.new)
        to_load = batch.to_load
        replace_file_rows(
            con,
            source,
            [*superseded, *(p.file_hash for p in to_load)],
            sorted({d for p in to_load for d in p.days}),
            [r for p in to_load for r in p.rows],
            [
                (source, p.name, p.file_hash, r.line, r.field, r.reason, r.raw_value)
                for p in to_load
                for r in p.rejects
            ],
            run.now,
            staged=[(p.staged, p.file_hash, p.name) for p in to_load if p.staged],
            reporting_currency=run.reporting.currency,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _report_loaded(report: IngestReport, batch: _Batch) -> None:
    fresh = {p.file_hash for _, p in batch.new}
    for parsed in batch.to_load:
        report.files.append(
            FileOutcome(
                parsed.name,
                parsed.file_hash,
                parsed.day,
                parsed.received,
                parsed.loaded,
                len(parsed.rejects),
                "loaded" if parsed.file_hash in fresh else "reloaded",
                "bulk" if parsed.staged is not None else "python",
            )
        )


def _move_files(run: _Run, batch: _Batch) -> None:
    for path, parsed in batch.new:
        move_to_archive(path, run.archived(parsed.file_hash, path.name))
    for path, file_hash, _, _ in batch.duplicates:
        move_to_archive(path, run.archived(file_hash, path.name))
    for path, file_hash, error in batch.quarantined:
        quarantine(run.home, run.source, path, file_hash, error)


def _discard(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    """Drop a parsed file's staged rows (after they were inserted, or when not loading it)."""
    if parsed.staged is not None:
        drop_staged(con, parsed.staged)


def _log_files(run: _Run, batch: _Batch, report: IngestReport) -> list[str]:
    """Record this run's files in the file log; return the hashes the new ones supersede."""
    superseded: list[str] = []
    for path, parsed in batch.new:
        superseded += _supersede_day(run, parsed.day, report)
        _log(
            run,
            parsed.file_hash,
            parsed.name,
            parsed.day,
            "loaded",
            run.archived(parsed.file_hash, path.name),
            (parsed.received, parsed.loaded, len(parsed.rejects)),
        )
    for path, file_hash, day, archived in batch.duplicates:
        _log(run, file_hash, path.name, day, "duplicate", archived)
        report.files.append(FileOutcome(path.name, file_hash, day, 0, 0, 0, "duplicate"))
    for path, file_hash, error in batch.quarantined:
        day = name_day(path.name)
        _log(
            run,
            file_hash,
            path.name,
            day,
            "quarantined",
            run.home.quarantine / run.source / path.name,
        )
        report.files.append(
            FileOutcome(
                path.name, file_hash, day, 0, 0, 0, "quarantined", reason=scrub(error.reason)
            )
        )
    return superseded


def _supersede_day(run: _Run, day: date | None, report: IngestReport) -> list[str]:
    """Mark the current file of ``day`` superseded; return the hashes it replaced."""
    replaced = run.con.execute(
        f"UPDATE {FILE_LOG_TABLE} SET status = 'superseded' "
        "WHERE source = ? AND partition_date = ? AND status = 'loaded' "
        "RETURNING file_hash, file_name",
        [run.source, day],
    ).fetchall()
    for old_hash, old_name in replaced:
        report.files.append(FileOutcome(old_name, old_hash, day, 0, 0, 0, "superseded"))
    return [h for h, _ in replaced]


def _log(
    run: _Run,
    file_hash: str,
    name: str,
    day: date | None,
    status: str,
    where: Path | str,
    counts: tuple[int, int, int] = (0, 0, 0),
) -> None:
    run.con.execute(
        f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file_hash, run.source, name, day, *counts, status, str(where), run.now],
    )


def _current_files(run: _Run, new: list[tuple[Path, ParsedFile]]) -> list[ParsedFile]:
    """Every current file of the window, new or archived: its rows are rebuilt from the file."""
    fresh = {p.file_hash: p for _, p in new}
    current = run.con.execute(
        f"SELECT file_hash, file_name, archived_path FROM {FILE_LOG_TABLE} "
        "WHERE source = ? AND status = 'loaded' AND partition_date BETWEEN ? AND ? "
        "ORDER BY loaded_at",
        [run.source, run.start, run.end],
    ).fetchall()
    to_load: list[ParsedFile] = []
    for file_hash, name, archived in current:
        if file_hash in fresh:
            to_load.append(fresh[file_hash])
            continue
        if not Path(archived).is_file():
            continue  # archive copy gone: keep the rows it loaded rather than lose them
        parsed = run.parse(Path(archived).read_bytes(), name, Path(archived))
        to_load.append(parsed)
        run.con.execute(
            f"UPDATE {FILE_LOG_TABLE} SET received = ?, loaded = ?, rejected = ? "
            "WHERE file_hash = ? AND source = ? AND status = 'loaded'",
            [parsed.received, parsed.loaded, len(parsed.rejects), file_hash, run.source],
        )
    to_load += [p for p in fresh.values() if p.day is None]
    return to_load
