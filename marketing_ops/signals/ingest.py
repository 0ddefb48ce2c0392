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

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.readers import UnreadableFile, decode_bytes, iter_jsonl, read_csv_records
from marketing_ops.signals.rows import Reject, RowBuilder, RowProblem, parse_number, scrub
from marketing_ops.signals.sources import SOURCES, SourcesConfig, load_sources
from marketing_ops.signals.store import FILE_LOG_TABLE, ensure_raw_schema, replace_file_rows

__all__ = [
    "FileOutcome",
    "IngestReport",
    "ParsedFile",
    "PendingFile",
    "ingest_source",
    "parse_signal_file",
    "pending_files",
]

_NAME_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})(?!\d)")
_IN_PROGRESS = (".tmp", ".part", ".crdownload", ".partial")


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


@dataclass
class ParsedFile:
    """A readable signal file: its rows ready for the raw table, its rejects, its day."""

    source: str
    name: str
    file_hash: str
    day: date | None
    rows: list[
        tuple[Any, ...]
    ]  # raw-table columns + (_file_hash, _file_name, _line, partition_date)
    rejects: list[Reject]

    @property
    def received(self) -> int:
        return len(self.rows) + len(self.rejects)

    @property
    def days(self) -> set[date]:
        return {r[-1] for r in self.rows}


@dataclass(frozen=True)
class PendingFile:
    """A file waiting in the inbox, for a sensor to request the right partitions."""

    path: Path
    file_hash: str
    day: date | None  # None: unreadable and no date in its name
    days: tuple[date, ...]  # every day its rows describe
    readable: bool


def _name_day(name: str) -> date | None:
    match = _NAME_DATE.search(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _resolver(path: str) -> tuple[str, str | None]:
    head, _, leaf = path.partition(".")
    return head, (leaf or None)


def _ga4_values(
    event: dict[str, Any], paths: dict[str, list[tuple[str, str | None]]]
) -> dict[str, Any]:
    """Flatten one GA4 event: for each column, the first path whose parent object exists."""
    params: dict[str, Any] | None = None
    out: dict[str, Any] = {}
    for column, candidates in paths.items():
        value = None
        for head, leaf in candidates:
            if leaf is None:
                value = event.get(head)
                break
            if head == "event_params":
                if params is None:
                    params = {}
                    for p in event.get("event_params") or ():
                        if isinstance(p, dict) and "key" in p:
                            v = p.get("value") or {}
                            params[p["key"]] = next(
                                (
                                    v[k]
                                    for k in (
                                        "string_value",
                                        "int_value",
                                        "double_value",
                                        "float_value",
                                    )
                                    if v.get(k) is not None
                                ),
                                None,
                            )
                if leaf in params:
                    value = params[leaf]
                    break
                continue
            parent = event.get(head)
            if isinstance(parent, dict):
                value = parent.get(leaf)
                break
        out[column] = value
    return out


def _records(
    source: str, text: str, config: SourcesConfig
) -> tuple[Iterator[tuple[int, dict[str, Any], str | None]], dict[str, float], Any]:
    spec = config.sources[source]
    if spec.format == "jsonl":
        paths = {c: [_resolver(p) for p in rule.paths] for c, rule in spec.columns.items()}

        def events() -> Iterator[tuple[int, dict[str, Any], str | None]]:
            for line, event, problem in iter_jsonl(text):
                yield line, ({} if event is None else _ga4_values(event, paths)), problem

        return events(), {}, None
    table = read_csv_records(text, spec)
    scales = {c: s for c, (_, s) in table.columns.items() if s != 1.0}
    return iter(table.records), scales, table.time_zone


def parse_signal_file(
    source: str,
    data: bytes,
    name: str,
    pii_key: bytes,
    today: date | None = None,
    config: SourcesConfig | None = None,
) -> ParsedFile:
    """Validate every row of one file. Raises UnreadableFile when the file cannot be read."""
    config = config or load_sources()
    today = today or datetime.now(UTC).date()
    file_hash = _file_hash(data)
    text = decode_bytes(data)
    records, scales, time_zone = _records(source, text, config)
    hint = _name_day(name)
    builder = RowBuilder(
        source, config.sources[source], config, pii_key, today, time_zone=time_zone, file_day=hint
    )
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    for line, values, problem in records:
        if problem is not None:
            rejects.append(Reject(line, "(row)", scrub(problem), None))
            continue
        for column, scale in scales.items():
            raw = values.get(column)
            if raw is not None and str(raw).strip():
                values[column] = _scaled(raw, scale)
        try:
            row, day = builder.build(values)
        except RowProblem as exc:
            rejects.append(Reject(line, exc.field, exc.reason, exc.raw_value))
            continue
        rows.append((*row, file_hash, name, line, day))
    days = {r[-1] for r in rows}
    file_day = hint if (hint in days or not days) else max(days)
    return ParsedFile(source, name, file_hash, file_day, rows, rejects)


def _scaled(raw: Any, scale: float) -> Any:
    """Apply a header variant's unit scale (micros -> units); leave junk for the validator."""
    try:
        return round(parse_number(raw) * scale, 10)
    except ValueError:
        return raw


def _inbox_files(home: DataHome, source: str) -> list[Path]:
    folder = home.source_inbox(source)
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_IN_PROGRESS)
    ]
    # Oldest first: when two files describe the same day, the one dropped last wins.
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def pending_files(home: DataHome, source: str) -> list[PendingFile]:
    """Files waiting in ``inbox/<source>/`` with their hash and the days inside them."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    pending = []
    for path in _inbox_files(home, source):
        data = path.read_bytes()
        try:
            # Rows are thrown away here, so a throwaway key is enough to find their days.
            parsed = parse_signal_file(source, data, path.name, pii_key=b"pending-scan")
        except UnreadableFile:
            pending.append(PendingFile(path, _file_hash(data), _name_day(path.name), (), False))
            continue
        pending.append(
            PendingFile(path, parsed.file_hash, parsed.day, tuple(sorted(parsed.days)), True)
        )
    return pending


def _archive_path(home: DataHome, source: str, file_hash: str, name: str) -> Path:
    return home.archive / source / f"{file_hash}__{name}"


def _quarantine(
    home: DataHome, source: str, path: Path, file_hash: str, error: UnreadableFile
) -> Path:
    folder = home.quarantine / source
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists() and _file_hash(target.read_bytes()) != file_hash:
        target = folder / f"{file_hash[:12]}__{path.name}"
    shutil.move(str(path), target)
    report = {
        "file": path.name,
        "source": source,
        "file_hash": file_hash,
        "line": error.line,
        "field": error.field,
        "reason": scrub(error.reason),
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    target.with_name(target.name + ".error.json").write_text(json.dumps(report, indent=2))
    return target


def _in_window(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def ingest_source(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    source: str,
    start: date,
    end: date,
    pii_key: bytes,
    *,
    today: date | None = None,
) -> IngestReport:
    """Load ``source``'s files for the days ``start``..``end`` (inclusive) into ``raw.*``.

    ``today`` anchors the sense checks (future dates, more than 5 years back); it defaults to
    the current UTC date and exists so historical samples can be replayed."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    config = load_sources()
    today = today or datetime.now(UTC).date()
    ensure_raw_schema(con)
    report = IngestReport(source, start, end)
    now = datetime.now(UTC).replace(tzinfo=None)

    known = {
        h: (status, day, archived)
        for h, status, day, archived in con.execute(
            f"SELECT file_hash, status, partition_date, archived_path FROM {FILE_LOG_TABLE} "
            "WHERE source = ? AND status IN ('loaded', 'superseded') ORDER BY loaded_at",
            [source],
        ).fetchall()
    }
    new: list[tuple[Path, ParsedFile]] = []
    duplicates: list[tuple[Path, str, date | None, str]] = []
    quarantined: list[tuple[Path, str, UnreadableFile]] = []
    for path in _inbox_files(home, source):
        data = path.read_bytes()
        file_hash = _file_hash(data)
        if file_hash in known:
            _, day, archived = known[file_hash]
            if _in_window(day, start, end):
                duplicates.append((path, file_hash, day, archived))
            continue
        try:
            parsed = parse_signal_file(source, data, path.name, pii_key, today, config)
        except UnreadableFile as error:
            hint = _name_day(path.name)
            if hint is None or _in_window(hint, start, end):
                quarantined.append((path, file_hash, error))
            continue
        if not _in_window(parsed.day, start, end):
            continue  # its own day's run will take it
        archived = str(_archive_path(home, source, file_hash, path.name))
        known[file_hash] = ("loaded", parsed.day, archived)
        new.append((path, parsed))

    con.execute("BEGIN TRANSACTION")
    try:
        superseded: list[str] = []
        for _path, parsed in new:
            replaced = con.execute(
                f"UPDATE {FILE_LOG_TABLE} SET status = 'superseded' "
                "WHERE source = ? AND partition_date = ? AND status = 'loaded' RETURNING file_hash, file_name",
                [source, parsed.day],
            ).fetchall()
            for old_hash, old_name in replaced:
                superseded.append(old_hash)
                report.files.append(
                    FileOutcome(old_name, old_hash, parsed.day, 0, 0, 0, "superseded")
                )
            con.execute(
                f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?)",
                [
                    parsed.file_hash,
                    source,
                    parsed.name,
                    parsed.day,
                    parsed.received,
                    len(parsed.rows),
                    len(parsed.rejects),
                    known[parsed.file_hash][2],
                    now,
                ],
            )
        for path, file_hash, day, archived in duplicates:
            con.execute(
                f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, 0, 0, 0, 'duplicate', ?, ?)",
                [file_hash, source, path.name, day, archived, now],
            )
            report.files.append(FileOutcome(path.name, file_hash, day, 0, 0, 0, "duplicate"))
        for path, file_hash, _error in quarantined:
            con.execute(
                f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, 0, 0, 0, 'quarantined', ?, ?)",
                [
                    file_hash,
                    source,
                    path.name,
                    _name_day(path.name),
                    str(home.quarantine / source / path.name),
                    now,
                ],
            )
            report.files.append(
                FileOutcome(path.name, file_hash, _name_day(path.name), 0, 0, 0, "quarantined")
            )

        # Every current file of the window, new or archived: its rows are rebuilt from the file.
        fresh = {p.file_hash: p for _, p in new}
        current = con.execute(
            f"SELECT file_hash, file_name, archived_path FROM {FILE_LOG_TABLE} "
            "WHERE source = ? AND status = 'loaded' AND partition_date BETWEEN ? AND ? ORDER BY loaded_at",
            [source, start, end],
        ).fetchall()
        to_load: list[ParsedFile] = []
        for file_hash, name, archived in current:
            if file_hash in fresh:
                to_load.append(fresh[file_hash])
                continue
            if not Path(archived).is_file():
                continue  # archive copy gone: keep the rows it loaded rather than lose them
            parsed = parse_signal_file(
                source, Path(archived).read_bytes(), name, pii_key, today, config
            )
            to_load.append(parsed)
            con.execute(
                f"UPDATE {FILE_LOG_TABLE} SET received = ?, loaded = ?, rejected = ? "
                "WHERE file_hash = ? AND source = ? AND status = 'loaded'",
                [parsed.received, len(parsed.rows), len(parsed.rejects), file_hash, source],
            )
        rows = [r for p in to_load for r in p.rows]
        rejects = [
            (source, p.name, p.file_hash, r.line, r.field, r.reason, r.raw_value)
            for p in to_load
            for r in p.rejects
        ]
        days = sorted({d for p in to_load for d in p.days})
        replace_file_rows(
            con, source, [*superseded, *(p.file_hash for p in to_load)], days, rows, rejects, now
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise

    # Files move only after the commit: a crash in between leaves them in the inbox, where the
    # next run sees their hash in the file log and treats them as duplicates.
    for parsed in to_load:
        status = "loaded" if parsed.file_hash in fresh else "reloaded"
        report.files.append(
            FileOutcome(
                parsed.name,
                parsed.file_hash,
                parsed.day,
                parsed.received,
                len(parsed.rows),
                len(parsed.rejects),
                status,
            )
        )
    for path, parsed in new:
        _move_to_archive(path, Path(known[parsed.file_hash][2]))
    for path, file_hash, _, _ in duplicates:
        _move_to_archive(path, _archive_path(home, source, file_hash, path.name))
    for path, file_hash, error in quarantined:
        _quarantine(home, source, path, file_hash, error)
    return report


def _move_to_archive(path: Path, target: Path) -> None:
    """Keep the file under its hash; identical content already archived needs no second copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        path.unlink()
    else:
        os.replace(path, target)
