"""Inbox to raw tables: one source, a window of days, nothing lost, safe to re-run.

For each complete file in ``inbox/<source>/`` (:mod:`.files`) whose day falls in the window:

- identical content seen before (same sha256) -> ``duplicate``, a no-op;
- unreadable, or over a limit of ``settings/signals.yaml`` -> its bytes are kept in
  ``quarantine/<source>/`` with ``<name>.error.json``; the other files load regardless;
- otherwise its rows are validated (bad rows to ``raw.rejects``) and its bytes archived as
  ``archive/<source>/<sha256>__<name>``.

Then every loaded file of the window's days (new or archived) is parsed (before the
transaction: a DuckDB read that fails inside one would abort it) and its rows replace what the
raw table held for it, in one transaction: a re-run rebuilds the same rows. Rows have
an identity, the source's natural key (``key`` in ``sources.yaml``): a row replaces the rows
of earlier-arrived files with the same key and nothing else, so files with different campaigns
for one day add up, and a re-export replaces exactly the keys it carries (each replaced row is
recorded in ``raw.replaced_rows``; a file left with no row is ``superseded``).

The day of a file is the date inside it: the name's ``_YYYY-MM-DD`` when rows carry that day,
else the latest day its rows carry. Rows keep their own day (``partition_date``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.bulk import drop_staged
from marketing_ops.signals.currency import Reporting, load_reporting
from marketing_ops.signals.ingest.files import (
    InboxEntry,
    archive_copy,
    archive_path,
    inbox_files,
    quarantine,
    read_if_unchanged,
    remove_if_unchanged,
    safe_name,
    settled_files,
)
from marketing_ops.signals.ingest.read import file_hash as content_hash
from marketing_ops.signals.ingest.read import name_day
from marketing_ops.signals.ingest.validate import BULK_MIN_BYTES, ParsedFile, parse_signal_file
from marketing_ops.signals.limits import IngestLimits, load_limits
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
    status: str  # loaded | reloaded | quarantined | duplicate | superseded | waiting
    validated: str = ""  # "bulk" (in DuckDB, leftovers in Python) or "python"
    reason: str = ""  # why a file was quarantined or waits (as in its error file)
    replaced: int = 0  # rows of earlier files its rows replaced (same natural key)


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

    @property
    def warnings(self) -> list[str]:
        """What a person should look at: quarantined files and files still being written."""
        return [
            f"{f.file_name}: {f.status}: {f.reason}"
            for f in self.files
            if f.status in ("quarantined", "waiting")
        ]

    def to_metadata(self) -> dict[str, int]:
        """Small totals for Dagster metadata (received = loaded + rejected)."""
        return {
            "files": len(self.files),
            "received": self.received,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "replaced_rows": sum(f.replaced for f in self.files),
            "quarantined": self._count("quarantined"),
            "waiting": self._count("waiting"),
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
    limits: IngestLimits
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
            limits=self.limits,
        )

    def in_window(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class _Taken:
    """An inbox file read whole: the bytes that were read are the ones loaded and stored."""

    entry: InboxEntry
    data: bytes
    file_hash: str

    @property
    def name(self) -> str:
        return self.entry.path.name


@dataclass
class _Batch:
    """The inbox sorted: new readable files (archived), duplicates, files to quarantine and
    files still being written; then every loaded file of the window that is (re)loaded."""

    new: list[tuple[_Taken, ParsedFile, Path]] = field(default_factory=list)
    duplicates: list[tuple[_Taken, date | None, str]] = field(default_factory=list)
    quarantined: list[tuple[_Taken, UnreadableFile, str]] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)
    to_load: list[ParsedFile] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)


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
    limits: IngestLimits | None = None,
) -> IngestReport:
    """Load ``source``'s files for the days ``start``..``end`` (inclusive) into ``raw.*``.

    ``today`` anchors the sense checks (future dates, more than 5 years back); it defaults to
    the current UTC date and exists so historical samples can be replayed. ``reporting`` (the
    reporting currency, its rates and the time zone) defaults to the data home's
    ``reference/``, ``limits`` to its ``settings/signals.yaml``. A file that cannot be loaded
    is quarantined and reported; it never stops the others."""
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
        limits or load_limits(home.settings),
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
        for parsed in [*(p for _, p, _ in batch.new), *batch.to_load]:
            _discard(con, parsed)
    _report_loaded(run, report, batch)
    # Inbox entries go only after the commit: a crash in between leaves them in the inbox,
    # where the next run sees their hash in the file log and treats them as duplicates.
    _clear_inbox(run, batch, report)
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
    """Read each settled inbox file once and sort it (:func:`_sort_file`); a file whose
    handling fails in any way is quarantined with the error, and the others go on."""
    known = _known_files(run)
    ready, batch.waiting = settled_files(
        inbox_files(run.home, run.source), run.limits.settle_seconds
    )
    for entry in ready:
        try:
            data = read_if_unchanged(entry)
        except OSError:
            data = None  # gone or not readable yet: a later run looks again
        if data is None:
            batch.waiting.append(entry.path)
            continue
        taken = _Taken(entry, data, content_hash(data))
        try:
            _sort_file(run, batch, taken, known)
        except Exception as exc:  # noqa: BLE001 - one poisoned file never stops the others
            _to_quarantine(run, batch, taken, _unexpected(exc))


def _unexpected(exc: Exception) -> UnreadableFile:
    return UnreadableFile(f"could not be processed: {type(exc).__name__}: {exc}")


def _sort_file(
    run: _Run, batch: _Batch, taken: _Taken, known: dict[str, tuple[date | None, str]]
) -> None:
    """A known hash is a duplicate, an unreadable file goes to quarantine, a readable one of
    the window is archived and new; other days' files stay for their own run."""
    if taken.file_hash in known:
        day, archived = known[taken.file_hash]
        if run.in_window(day):
            batch.duplicates.append((taken, day, archived))
        return
    if len(taken.name.encode()) > run.limits.max_name_length:
        problem = UnreadableFile(
            f"file name longer than {run.limits.max_name_length} bytes "
            "(settings: limits.max_name_length)"
        )
        _to_quarantine(run, batch, taken, problem)
        return
    archived = archive_path(run.home, run.source, taken.file_hash, taken.name)
    kept_before = archived.exists()
    try:
        parsed = _archive_then_parse(run, taken)
    except Exception as exc:  # noqa: BLE001 - any failure to read it fails this file only
        _forget_copy(archived, kept_before)
        error = exc if isinstance(exc, UnreadableFile) else _unexpected(exc)
        hint = name_day(taken.name)
        if hint is None or run.in_window(hint):
            _to_quarantine(run, batch, taken, error)
        return
    if not taken.entry.unchanged() or (parsed.day is not None and not run.in_window(parsed.day)):
        # Rewritten while it was read (it waits for a later run), or another day's file (its
        # own day's run takes it).
        _discard(run.con, parsed)
        _forget_copy(archived, kept_before)
        if not taken.entry.unchanged():
            batch.waiting.append(taken.entry.path)
        return
    # A file with no valid row and no date in its name belongs to no day: any run takes it,
    # so its rejects are recorded rather than left waiting forever.
    known[taken.file_hash] = (parsed.day, str(archived))
    batch.new.append((taken, parsed, archived))


def _archive_then_parse(run: _Run, taken: _Taken) -> ParsedFile:
    """Archive the bytes that were read (written once, verified against them), then parse
    that copy: DuckDB's bulk read sees exactly the archived bytes, never the inbox entry,
    which may be rewritten meanwhile."""
    archived = archive_copy(run.home, run.source, taken.data, taken.file_hash, taken.name)
    return run.parse(taken.data, taken.name, archived, taken.file_hash)


def _forget_copy(archived: Path, kept_before: bool) -> None:
    """Remove an archive copy made for a file that is not loaded in this run."""
    if not kept_before:
        archived.unlink(missing_ok=True)


def _to_quarantine(run: _Run, batch: _Batch, taken: _Taken, problem: UnreadableFile) -> None:
    stored = safe_name(taken.name, taken.file_hash, run.limits.max_name_length)
    batch.quarantined.append((taken, problem, stored))


def _commit(run: _Run, batch: _Batch, report: IngestReport) -> None:
    """Log the files and replace the window's rows, in one transaction."""
    con, source = run.con, run.source
    spec = run.config.sources[source]
    # Archived files are parsed (staged) before the transaction: a DuckDB read that fails
    # inside one (the typed CSV read that falls back to text) would abort it.
    _current_files(run, batch)
    to_load = batch.to_load
    con.execute("BEGIN TRANSACTION")
    try:
        _log_files(run, batch, report)
        _log_reparsed(run, batch)
        batch.superseded = replace_file_rows(
            con,
            source,
            [p.file_hash for p in to_load],
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
            key=spec.key,
            key_has_day=spec.partition in spec.key,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _report_loaded(run: _Run, report: IngestReport, batch: _Batch) -> None:
    fresh = {p.file_hash for _, p, _ in batch.new}
    replaced = dict(
        run.con.execute(
            f"SELECT file_hash, coalesce(replaced, 0) FROM {FILE_LOG_TABLE} "
            "WHERE source = ? AND list_contains(?::VARCHAR[], file_hash)",
            [run.source, [p.file_hash for p in batch.to_load]],
        ).fetchall()
    )
    superseded = dict(batch.superseded)
    for parsed in batch.to_load:
        status = "loaded" if parsed.file_hash in fresh else "reloaded"
        report.files.append(
            FileOutcome(
                parsed.name,
                parsed.file_hash,
                parsed.day,
                parsed.received,
                parsed.loaded,
                len(parsed.rejects),
                "superseded" if superseded.pop(parsed.file_hash, None) else status,
                "bulk" if parsed.staged is not None else "python",
                replaced=replaced.get(parsed.file_hash, 0),
            )
        )
    for file_hash, name in superseded.items():  # earlier files, not reloaded in this run
        report.files.append(FileOutcome(name, file_hash, None, 0, 0, 0, "superseded"))
    for path in batch.waiting:
        report.files.append(
            FileOutcome(
                path.name,
                "",
                name_day(path.name),
                0,
                0,
                0,
                "waiting",
                reason="still being written (modified within "
                f"{run.limits.settle_seconds:g} s or while read): a later run takes it",
            )
        )


def _clear_inbox(run: _Run, batch: _Batch, report: IngestReport) -> None:
    """Take stored files out of the inbox; keep a quarantined file's bytes and error file.
    A file that cannot be stored now (a full disk, permissions) stays for the next run."""
    home, source = run.home, run.source
    for taken, _, _ in batch.new:  # archived before the commit
        _settle(report, taken, lambda: None)
    for taken, _, _ in batch.duplicates:
        _settle(
            report,
            taken,
            partial(archive_copy, home, source, taken.data, taken.file_hash, taken.name),
        )
    for taken, error, stored in batch.quarantined:
        keep = partial(
            quarantine, home, source, taken.name, taken.data, taken.file_hash, error, stored
        )
        _settle(report, taken, keep)


def _settle(report: IngestReport, taken: _Taken, keep: Callable[[], object]) -> None:
    """Store ``taken``'s bytes (``keep``) and take it out of the inbox; when that fails, the
    file stays and is reported waiting, with the error."""
    try:
        keep()
        remove_if_unchanged(taken.entry)
    except OSError as exc:
        report.files.append(
            FileOutcome(taken.name, taken.file_hash, None, 0, 0, 0, "waiting", reason=str(exc))
        )


def _discard(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    """Drop a parsed file's staged rows (after they were inserted, or when not loading it)."""
    if parsed.staged is not None:
        drop_staged(con, parsed.staged)


def _log_files(run: _Run, batch: _Batch, report: IngestReport) -> None:
    """Record this run's files in the file log, new files numbered in order of arrival."""
    arrival = run.con.execute(f"SELECT coalesce(max(arrival), 0) FROM {FILE_LOG_TABLE}")
    last = arrival.fetchone()[0]
    for n, (_, parsed, archived) in enumerate(batch.new, start=1):
        counts = (parsed.received, parsed.loaded, len(parsed.rejects))
        _log(run, parsed.file_hash, parsed.name, parsed.day, "loaded", archived, counts, last + n)
    for taken, day, archived in batch.duplicates:
        _log(run, taken.file_hash, taken.name, day, "duplicate", archived)
        report.files.append(FileOutcome(taken.name, taken.file_hash, day, 0, 0, 0, "duplicate"))
    for taken, error, stored in batch.quarantined:
        day = name_day(taken.name)
        where = run.home.quarantine / run.source / stored
        _log(run, taken.file_hash, taken.name, day, "quarantined", where)
        reason = scrub(error.reason)
        report.files.append(
            FileOutcome(taken.name, taken.file_hash, day, 0, 0, 0, "quarantined", reason=reason)
        )


def _log(
    run: _Run,
    file_hash: str,
    name: str,
    day: date | None,
    status: str,
    where: Path | str,
    counts: tuple[int, int, int] = (0, 0, 0),
    arrival: int | None = None,
) -> None:
    run.con.execute(
        f"INSERT INTO {FILE_LOG_TABLE} (file_hash, source, file_name, partition_date, received, "
        "loaded, rejected, status, archived_path, loaded_at, arrival, replaced) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        [file_hash, run.source, name, day, *counts, status, str(where), run.now, arrival],
    )


def _current_files(run: _Run, batch: _Batch) -> None:
    """Every loaded file of the window, new or archived, into ``batch.to_load`` (in order of
    arrival): its rows are rebuilt from the file. Called before the commit transaction, so
    the file log holds the earlier files only; this run's new files come after them."""
    archived_files = run.con.execute(
        f"SELECT file_hash, file_name, archived_path FROM {FILE_LOG_TABLE} "
        "WHERE source = ? AND status = 'loaded' AND partition_date BETWEEN ? AND ? "
        "ORDER BY arrival",
        [run.source, run.start, run.end],
    ).fetchall()
    for _, name, archived in archived_files:
        if not Path(archived).is_file():
            continue  # archive copy gone: keep the rows it loaded rather than lose them
        batch.to_load.append(run.parse(Path(archived).read_bytes(), name, Path(archived)))
    fresh = [p for _, p, _ in batch.new]
    batch.to_load += [p for p in fresh if p.day is not None and run.in_window(p.day)]
    batch.to_load += [p for p in fresh if p.day is None]


def _log_reparsed(run: _Run, batch: _Batch) -> None:
    """Counts of the archived files parsed again (the rules may have changed since)."""
    fresh = {p.file_hash for _, p, _ in batch.new}
    for parsed in batch.to_load:
        if parsed.file_hash in fresh:
            continue
        run.con.execute(
            f"UPDATE {FILE_LOG_TABLE} SET received = ?, loaded = ?, rejected = ? "
            "WHERE file_hash = ? AND source = ? AND status = 'loaded'",
            [
                parsed.received,
                parsed.loaded,
                len(parsed.rejects),
                parsed.file_hash,
                run.source,
            ],
        )
