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

import csv
import hashlib
import json
import os
import re
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.bulk import StagedRows, bulk_eligible, drop_staged, stage_file
from marketing_ops.signals.readers import (
    CsvLayout,
    UnreadableFile,
    csv_record,
    decode_bytes,
    iter_jsonl,
    json_line,
    looks_like_json,
    read_csv_records,
    read_json_records,
    sniff_csv,
)
from marketing_ops.signals.reporting import Reporting, load_reporting
from marketing_ops.signals.rows import Reject, RowBuilder, RowProblem, parse_number, scrub
from marketing_ops.signals.sources import (
    SOURCES,
    SourcesConfig,
    SourceSpec,
    load_sources,
    scale_divisor,
)
from marketing_ops.signals.store import FILE_LOG_TABLE, ensure_raw_schema, replace_file_rows

__all__ = [
    "FileOutcome",
    "IngestReport",
    "ParsedFile",
    "inbox_files",
    "ingest_source",
    "name_day",
    "parse_signal_file",
]

_NAME_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})(?!\d)")
# Below this a file is validated in Python: DuckDB's per-query overhead would not pay off.
BULK_MIN_BYTES = 1 << 20  # measured break-even: ~100 ms of per-file SQL vs ~16-40k rows/s
_HEAD_BYTES = 1 << 16
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


@dataclass
class ParsedFile:
    """A readable signal file: its rows ready for the raw table, its rejects, its day.

    Rows validated in bulk wait in a temporary table of the warehouse connection (``staged``);
    the others are Python tuples (``rows``)."""

    source: str
    name: str
    file_hash: str
    day: date | None
    rows: list[
        tuple[Any, ...]
    ]  # raw-table columns + (_file_hash, _file_name, _line, partition_date)
    rejects: list[Reject]
    staged: StagedRows | None = None

    @property
    def loaded(self) -> int:
        return len(self.rows) + (self.staged.count if self.staged else 0)

    @property
    def received(self) -> int:
        return self.loaded + len(self.rejects)

    @property
    def days(self) -> set[date]:
        return {r[-1] for r in self.rows} | (self.staged.days if self.staged else set())


def name_day(name: str) -> date | None:
    """The ``_YYYY-MM-DD`` in a file name, if any (a hint: the dates inside win)."""
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
                    listed = event.get("event_params")
                    for p in listed if isinstance(listed, list) else ():
                        if isinstance(p, dict) and "key" in p:
                            v = p.get("value")
                            v = v if isinstance(v, dict) else {}
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
        paths = _json_paths(spec)

        def events() -> Iterator[tuple[int, dict[str, Any], str | None]]:
            for line, event, problem in iter_jsonl(text):
                yield line, ({} if event is None else _ga4_values(event, paths)), problem

        return events(), {}, None
    if spec.json_records and looks_like_json(text):
        table = read_json_records(text, spec)
    else:
        table = read_csv_records(text, spec)
    scales = {c: s for c, (_, s) in table.columns.items() if s != 1.0}
    return iter(table.records), scales, table.time_zone


def _json_paths(spec: SourceSpec) -> dict[str, list[tuple[str, str | None]]]:
    return {c: [_resolver(p) for p in rule.paths] for c, rule in spec.columns.items()}


class _Validator:
    """Python validation of records into rows and rejects (the definition of a valid row)."""

    def __init__(self, builder: RowBuilder, file_hash: str, name: str) -> None:
        self.builder, self.file_hash, self.name = builder, file_hash, name
        self.rows: list[tuple[Any, ...]] = []
        self.rejects: list[Reject] = []

    def take(
        self, line: int, values: dict[str, Any], problem: str | None, scales: dict[str, float]
    ) -> None:
        if problem is not None:
            self.rejects.append(Reject(line, "(row)", scrub(problem), None))
            return
        for column, scale in scales.items():
            raw = values.get(column)
            if raw is not None and str(raw).strip():
                values[column] = _scaled(raw, scale)
        try:
            row, day = self.builder.build(values)
        except RowProblem as exc:
            self.rejects.append(Reject(line, exc.field, exc.reason, exc.raw_value))
            return
        self.rows.append((*row, self.file_hash, self.name, line, day))


def parse_signal_file(
    source: str,
    data: bytes,
    name: str,
    pii_key: bytes,
    today: date | None = None,
    config: SourcesConfig | None = None,
    *,
    reporting: Reporting | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    path: Path | None = None,
    bulk_min_bytes: int = BULK_MIN_BYTES,
    file_hash: str | None = None,
) -> ParsedFile:
    """Validate every row of one file. Raises UnreadableFile when the file cannot be read.

    With a warehouse connection and the file on disk (``path`` holding ``data``), a file of at
    least ``bulk_min_bytes`` is validated in bulk inside DuckDB (:mod:`.bulk`) when its
    source's rules allow; its valid rows then wait in a temporary table of ``con``."""
    config = config or load_sources()
    today = today or datetime.now(UTC).date()
    reporting = reporting or Reporting()
    file_hash = file_hash or _file_hash(data)
    hint = name_day(name)
    spec = config.sources[source]
    if con is not None and path is not None and len(data) >= bulk_min_bytes:
        parsed = _parse_in_bulk(
            con, source, data, name, path, file_hash, hint, pii_key, today, config, reporting
        )
        if parsed is not None:
            return parsed
    text = decode_bytes(data)
    records, scales, time_zone = _records(source, text, config)
    builder = RowBuilder(
        source,
        spec,
        config,
        pii_key,
        today,
        time_zone=time_zone,
        file_day=hint,
        reporting=reporting,
    )
    validator = _Validator(builder, file_hash, name)
    for line, values, problem in records:
        validator.take(line, values, problem, scales)
    return _parsed(source, name, file_hash, hint, validator, None)


def _parsed(
    source: str,
    name: str,
    file_hash: str,
    hint: date | None,
    validator: _Validator,
    staged: StagedRows | None,
) -> ParsedFile:
    parsed = ParsedFile(source, name, file_hash, None, validator.rows, validator.rejects, staged)
    days = parsed.days
    parsed.day = hint if (hint in days or not days) else max(days)
    return parsed


def _head_and_lines(data: bytes) -> tuple[bytes, int, bool] | None:
    """The first 64 KiB of the content, its physical line count, and whether it is gzipped;
    None when a lone CR makes lines ambiguous (Python's csv and DuckDB would disagree)."""
    gzipped = data[:2] == b"\x1f\x8b"
    if not gzipped:
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            return None
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        return data[:_HEAD_BYTES], lines, False
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    head, newlines, crs, crlfs, last = b"", 0, 0, 0, b""
    try:
        for start in range(0, len(data), 1 << 22):
            chunk = inflater.decompress(data[start : start + (1 << 22)])
            if len(head) < _HEAD_BYTES:
                head += chunk[: _HEAD_BYTES - len(head)]
            joined = last[-1:] + chunk
            newlines += chunk.count(b"\n")
            crs += chunk.count(b"\r")
            crlfs += joined.count(b"\r\n")
            last = chunk or last
        last = inflater.flush() or last
    except zlib.error:
        return None
    if crs != crlfs or not inflater.eof:
        return None
    return head, newlines + (0 if last.endswith(b"\n") else 1), True


def _parse_in_bulk(
    con: duckdb.DuckDBPyConnection,
    source: str,
    data: bytes,
    name: str,
    path: Path,
    file_hash: str,
    hint: date | None,
    pii_key: bytes,
    today: date,
    config: SourcesConfig,
    reporting: Reporting,
) -> ParsedFile | None:
    """Bulk validation when DuckDB can read the file cleanly; None means "use Python"."""
    spec = config.sources[source]
    found = _head_and_lines(data)
    if found is None:
        return None
    head_bytes, lines, gzipped = found
    if head_bytes[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head_bytes:
        return None  # UTF-16 or binary: Python decodes (or quarantines) it
    head = head_bytes.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
    layout = None
    if spec.format == "csv":
        if spec.json_records and looks_like_json(head):
            return None
        try:
            layout = sniff_csv(head, spec)
        except UnreadableFile:
            return None  # Python reads the whole file and reports why
    builder = RowBuilder(
        source,
        spec,
        config,
        pii_key,
        today,
        time_zone=layout.time_zone if layout else None,
        file_day=hint,
        reporting=reporting,
    )
    if not bulk_eligible(builder):
        return None
    staged = stage_file(
        con, builder, path=path, gzipped=gzipped, layout=layout, physical_lines=lines
    )
    if staged is None:
        return None
    validator = _Validator(builder, file_hash, name)
    if staged.leftover_lines:
        _validate_lines(validator, decode_bytes(data), staged.leftover_lines, spec, layout)
    return _parsed(source, name, file_hash, hint, validator, staged)


def _validate_lines(
    validator: _Validator,
    text: str,
    numbers: list[int],
    spec: SourceSpec,
    layout: CsvLayout | None,
) -> None:
    """Run the lines the SQL left (by number) through the Python validator."""
    wanted = set(numbers)
    paths = _json_paths(spec) if layout is None else {}
    scales = {c: s for c, (_, s) in layout.columns.items() if s != 1.0} if layout else {}
    for n, line in enumerate(text.split("\n"), start=1):
        if n not in wanted:
            continue
        if layout is None:
            record = json_line(n, line)
            if record is not None:
                line_no, event, problem = record
                values = {} if event is None else _ga4_values(event, paths)
                validator.take(line_no, values, problem, {})
            continue
        cells = next(csv.reader([line.rstrip("\r")], delimiter=layout.delimiter), [])
        record = csv_record(cells, n, layout)
        if record is not None:
            validator.take(record[0], record[1], record[2], scales)


def _scaled(raw: Any, scale: float) -> Any:
    """Apply a header variant's unit scale (micros -> units); leave junk for the validator."""
    try:
        number = parse_number(raw)
    except ValueError:
        return raw
    divisor = scale_divisor(scale)
    return number / divisor if divisor else number * scale


def inbox_files(home: DataHome, source: str) -> list[Path]:
    """Files in ``inbox/<source>/``, oldest first; partial downloads are left alone."""
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
    config = load_sources()
    today = today or datetime.now(UTC).date()
    reporting = reporting or load_reporting(home.reference)
    ensure_raw_schema(con)
    report = IngestReport(source, start, end)
    now = datetime.now(UTC).replace(tzinfo=None)

    def parse(data: bytes, name: str, path: Path, file_hash: str | None = None) -> ParsedFile:
        return parse_signal_file(
            source,
            data,
            name,
            pii_key,
            today,
            config,
            reporting=reporting,
            con=con,
            path=path,
            bulk_min_bytes=bulk_min_bytes,
            file_hash=file_hash,
        )

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
    to_load: list[ParsedFile] = []
    try:
        for path in inbox_files(home, source):
            data = path.read_bytes()
            file_hash = _file_hash(data)
            if file_hash in known:
                _, day, archived = known[file_hash]
                if _in_window(day, start, end):
                    duplicates.append((path, file_hash, day, archived))
                continue
            try:
                parsed = parse(data, path.name, path, file_hash)
            except UnreadableFile as error:
                hint = name_day(path.name)
                if hint is None or _in_window(hint, start, end):
                    quarantined.append((path, file_hash, error))
                continue
            if parsed.day is not None and not _in_window(parsed.day, start, end):
                _discard(con, parsed)
                continue  # its own day's run will take it
            # A file with no valid row and no date in its name belongs to no day: any run
            # takes it, so its rejects are recorded rather than left waiting forever.
            archived = str(_archive_path(home, source, file_hash, path.name))
            known[file_hash] = ("loaded", parsed.day, archived)
            new.append((path, parsed))

        con.execute("BEGIN TRANSACTION")
        try:
            superseded = _log_files(con, home, source, report, new, duplicates, quarantined, now)
            to_load = _current_files(con, source, start, end, new, parse)
            rows = [r for p in to_load for r in p.rows]
            rejects = [
                (source, p.name, p.file_hash, r.line, r.field, r.reason, r.raw_value)
                for p in to_load
                for r in p.rejects
            ]
            days = sorted({d for p in to_load for d in p.days})
            replace_file_rows(
                con,
                source,
                [*superseded, *(p.file_hash for p in to_load)],
                days,
                rows,
                rejects,
                now,
                staged=[(p.staged, p.file_hash, p.name) for p in to_load if p.staged],
                reporting_currency=reporting.currency,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for parsed in [*(p for _, p in new), *to_load]:
            _discard(con, parsed)

    # Files move only after the commit: a crash in between leaves them in the inbox, where the
    # next run sees their hash in the file log and treats them as duplicates.
    fresh = {p.file_hash for _, p in new}
    for parsed in to_load:
        status = "loaded" if parsed.file_hash in fresh else "reloaded"
        report.files.append(
            FileOutcome(
                parsed.name,
                parsed.file_hash,
                parsed.day,
                parsed.received,
                parsed.loaded,
                len(parsed.rejects),
                status,
                "bulk" if parsed.staged is not None else "python",
            )
        )
    for path, parsed in new:
        _move_to_archive(path, Path(known[parsed.file_hash][2]))
    for path, file_hash, _, _ in duplicates:
        _move_to_archive(path, _archive_path(home, source, file_hash, path.name))
    for path, file_hash, error in quarantined:
        _quarantine(home, source, path, file_hash, error)
    return report


def _discard(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    """Drop a parsed file's staged rows (after they were inserted, or when not loading it)."""
    if parsed.staged is not None:
        drop_staged(con, parsed.staged)


def _log_files(
    con: duckdb.DuckDBPyConnection,
    home: DataHome,
    source: str,
    report: IngestReport,
    new: list[tuple[Path, ParsedFile]],
    duplicates: list[tuple[Path, str, date | None, str]],
    quarantined: list[tuple[Path, str, UnreadableFile]],
    now: datetime,
) -> list[str]:
    """Record this run's files in the file log; return the hashes the new ones supersede."""
    superseded: list[str] = []
    for path, parsed in new:
        replaced = con.execute(
            f"UPDATE {FILE_LOG_TABLE} SET status = 'superseded' "
            "WHERE source = ? AND partition_date = ? AND status = 'loaded' "
            "RETURNING file_hash, file_name",
            [source, parsed.day],
        ).fetchall()
        for old_hash, old_name in replaced:
            superseded.append(old_hash)
            report.files.append(FileOutcome(old_name, old_hash, parsed.day, 0, 0, 0, "superseded"))
        con.execute(
            f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?)",
            [
                parsed.file_hash,
                source,
                parsed.name,
                parsed.day,
                parsed.received,
                parsed.loaded,
                len(parsed.rejects),
                str(_archive_path(home, source, parsed.file_hash, path.name)),
                now,
            ],
        )
    for path, file_hash, day, archived in duplicates:
        con.execute(
            f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, 0, 0, 0, 'duplicate', ?, ?)",
            [file_hash, source, path.name, day, archived, now],
        )
        report.files.append(FileOutcome(path.name, file_hash, day, 0, 0, 0, "duplicate"))
    for path, file_hash, error in quarantined:
        con.execute(
            f"INSERT INTO {FILE_LOG_TABLE} VALUES (?, ?, ?, ?, 0, 0, 0, 'quarantined', ?, ?)",
            [
                file_hash,
                source,
                path.name,
                name_day(path.name),
                str(home.quarantine / source / path.name),
                now,
            ],
        )
        report.files.append(
            FileOutcome(
                path.name,
                file_hash,
                name_day(path.name),
                0,
                0,
                0,
                "quarantined",
                reason=scrub(error.reason),
            )
        )
    return superseded


def _current_files(
    con: duckdb.DuckDBPyConnection,
    source: str,
    start: date,
    end: date,
    new: list[tuple[Path, ParsedFile]],
    parse: Any,
) -> list[ParsedFile]:
    """Every current file of the window, new or archived: its rows are rebuilt from the file."""
    fresh = {p.file_hash: p for _, p in new}
    current = con.execute(
        f"SELECT file_hash, file_name, archived_path FROM {FILE_LOG_TABLE} "
        "WHERE source = ? AND status = 'loaded' AND partition_date BETWEEN ? AND ? "
        "ORDER BY loaded_at",
        [source, start, end],
    ).fetchall()
    to_load: list[ParsedFile] = []
    for file_hash, name, archived in current:
        if file_hash in fresh:
            to_load.append(fresh[file_hash])
            continue
        if not Path(archived).is_file():
            continue  # archive copy gone: keep the rows it loaded rather than lose them
        parsed = parse(Path(archived).read_bytes(), name, Path(archived))
        to_load.append(parsed)
        con.execute(
            f"UPDATE {FILE_LOG_TABLE} SET received = ?, loaded = ?, rejected = ? "
            "WHERE file_hash = ? AND source = ? AND status = 'loaded'",
            [parsed.received, parsed.loaded, len(parsed.rejects), file_hash, source],
        )
    to_load += [p for p in fresh.values() if p.day is None]
    return to_load


def _move_to_archive(path: Path, target: Path) -> None:
    """Keep the file under its hash; identical content already archived needs no second copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        path.unlink()
    else:
        os.replace(path, target)
