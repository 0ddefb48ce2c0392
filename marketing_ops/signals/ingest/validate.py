"""Validating one file: every record becomes a raw-table row or a reject with its reason.

Small files are validated row by row in Python (:class:`RowBuilder` is the definition of a
valid row). A large file whose source's rules allow it is validated in bulk inside DuckDB
(:mod:`marketing_ops.signals.bulk`); the lines the SQL cannot settle come back here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from marketing_ops.signals.bulk import StagedRows, bulk_eligible, stage_file
from marketing_ops.signals.currency import Reporting
from marketing_ops.signals.ingest.read import (
    check_size,
    ga4_values,
    head_and_lines,
    json_paths,
    name_day,
    records,
)
from marketing_ops.signals.ingest.read import (
    file_hash as content_hash,
)
from marketing_ops.signals.limits import IngestLimits
from marketing_ops.signals.readers import (
    CsvLayout,
    UnreadableFile,
    csv_record,
    decode_bytes,
    json_line,
    looks_like_json,
    sniff_csv,
)
from marketing_ops.signals.rows import Reject, RowBuilder, RowProblem, parse_number, scrub
from marketing_ops.signals.sources import SourcesConfig, SourceSpec, load_sources, scale_divisor

__all__ = ["BULK_MIN_BYTES", "ParsedFile", "parse_signal_file"]

# Below this a file is validated in Python: DuckDB's per-query overhead would not pay off.
BULK_MIN_BYTES = 1 << 20  # measured break-even: ~100 ms of per-file SQL vs ~16-40k rows/s


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


class _Validator:
    """Python validation of records into rows and rejects (the definition of a valid row)."""

    def __init__(
        self, builder: RowBuilder, file_hash: str, name: str, max_rows: int = 10**12
    ) -> None:
        self.builder, self.file_hash, self.name = builder, file_hash, name
        self.rows: list[tuple[Any, ...]] = []
        self.rejects: list[Reject] = []
        self.room = max_rows

    def take(
        self, line: int, values: dict[str, Any], problem: str | None, scales: dict[str, float]
    ) -> None:
        self.room -= 1
        if self.room < 0:
            raise UnreadableFile("more rows than the limit (settings: limits.max_rows)")
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


@dataclass(frozen=True)
class _Context:
    """What validating any file of one source needs besides the file itself."""

    source: str
    pii_key: bytes
    today: date
    config: SourcesConfig
    reporting: Reporting
    limits: IngestLimits

    @property
    def spec(self) -> SourceSpec:
        return self.config.sources[self.source]

    def builder(self, time_zone: Any, hint: date | None) -> RowBuilder:
        return RowBuilder(
            self.source,
            self.spec,
            self.config,
            self.pii_key,
            self.today,
            time_zone=time_zone,
            file_day=hint,
            reporting=self.reporting,
        )


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
    limits: IngestLimits | None = None,
) -> ParsedFile:
    """Validate every row of one file. Raises UnreadableFile when the file cannot be read or
    breaks one of ``limits`` (size, rows, field size, columns).

    With a warehouse connection and the file on disk (``path`` holding ``data``), a file of at
    least ``bulk_min_bytes`` is validated in bulk inside DuckDB (:mod:`.bulk`) when its
    source's rules allow; its valid rows then wait in a temporary table of ``con``."""
    ctx = _Context(
        source,
        pii_key,
        today or datetime.now(UTC).date(),
        config or load_sources(),
        reporting or Reporting(),
        limits or IngestLimits(),
    )
    file_hash = file_hash or content_hash(data)
    hint = name_day(name)
    newlines = check_size(data, ctx.limits)
    if con is not None and path is not None and len(data) >= bulk_min_bytes:
        parsed = _parse_in_bulk(con, ctx, data, name, path, file_hash, hint, newlines)
        if parsed is not None:
            return parsed
    try:
        return _parse_in_python(ctx, data, name, file_hash, hint)
    except csv.Error as exc:  # the field size limit, or a quote the csv module gives up on
        raise UnreadableFile(_csv_problem(exc, ctx.limits)) from exc


def _parse_in_python(
    ctx: _Context, data: bytes, name: str, file_hash: str, hint: date | None
) -> ParsedFile:
    csv.field_size_limit(ctx.limits.max_field_bytes)
    text = decode_bytes(data)
    found, scales, time_zone, width = records(ctx.source, text, ctx.config)
    _check_width(width, ctx.limits)
    validator = _Validator(ctx.builder(time_zone, hint), file_hash, name, ctx.limits.max_rows)
    for line, values, problem in found:
        validator.take(line, values, problem, scales)
    return _parsed(ctx.source, name, file_hash, hint, validator, None)


def _csv_problem(exc: csv.Error, limits: IngestLimits) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f"a field larger than the limit of {limits.max_field_bytes} characters "
            "(settings: limits.max_field_bytes)"
        )
    return f"CSV cannot be parsed: {exc}"


def _check_width(width: int, limits: IngestLimits) -> None:
    if width > limits.max_columns:
        raise UnreadableFile(
            f"{width} columns, over the limit of {limits.max_columns} "
            "(settings: limits.max_columns)"
        )


def _parsed(
    source: str,
    name: str,
    file_hash: str,
    hint: date | None,
    validator: _Validator,
    staged: StagedRows | None,
) -> ParsedFile:
    """The file's day is the name's date when its rows carry it, else their latest day."""
    parsed = ParsedFile(source, name, file_hash, None, validator.rows, validator.rejects, staged)
    days = parsed.days
    parsed.day = hint if (hint in days or not days) else max(days)
    return parsed


def _bulk_layout(
    data: bytes, spec: SourceSpec, newlines: int | None
) -> tuple[CsvLayout | None, int, bool] | None:
    """The CSV layout (None for JSON lines), physical line count and gzip flag of a file
    DuckDB can read cleanly; None means "use Python"."""
    found = head_and_lines(data, newlines)
    if found is None:
        return None
    head_bytes, lines, gzipped = found
    if head_bytes[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head_bytes:
        return None  # UTF-16 or binary: Python decodes (or quarantines) it
    head = head_bytes.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
    if spec.format != "csv":
        return None, lines, gzipped
    if spec.json_records and looks_like_json(head):
        return None
    try:
        return sniff_csv(head, spec), lines, gzipped
    except UnreadableFile:
        return None  # Python reads the whole file and reports why


def _parse_in_bulk(
    con: duckdb.DuckDBPyConnection,
    ctx: _Context,
    data: bytes,
    name: str,
    path: Path,
    file_hash: str,
    hint: date | None,
    newlines: int | None,
) -> ParsedFile | None:
    """Bulk validation when DuckDB can read the file cleanly; None means "use Python"."""
    found = _bulk_layout(data, ctx.spec, newlines)
    if found is None:
        return None
    layout, lines, gzipped = found
    if layout is not None:
        _check_width(layout.width, ctx.limits)
    builder = ctx.builder(layout.time_zone if layout else None, hint)
    if not bulk_eligible(builder):
        return None
    staged = stage_file(
        con, builder, path=path, gzipped=gzipped, layout=layout, physical_lines=lines
    )
    if staged is None:
        return None
    validator = _Validator(builder, file_hash, name, ctx.limits.max_rows - staged.count)
    if staged.leftover_lines:
        _validate_lines(validator, data, staged.leftover_lines, ctx.spec, layout)
    return _parsed(ctx.source, name, file_hash, hint, validator, staged)


def _lines(data: bytes, numbers: list[int]) -> Iterator[tuple[int, str]]:
    """Lines ``numbers`` (ascending, from 1) of the file's text, as ``decode_bytes(data)``
    split at ``\n`` gives them. Plain ASCII content (no gzip, BOM or NUL) is cut by byte
    offsets instead: the same lines, without decoding and splitting the whole file for the
    few the SQL left."""
    if data[:2] != b"\x1f\x8b" and data.isascii() and b"\x00" not in data and data.strip():
        start, at = 0, 1
        for number in numbers:
            for _ in range(number - at):
                start = data.index(b"\n", start) + 1
            at = number
            end = data.find(b"\n", start)
            yield number, data[start : len(data) if end < 0 else end].decode("ascii")
        return
    lines = decode_bytes(data).split("\n")
    for number in numbers:
        yield number, lines[number - 1]


def _validate_lines(
    validator: _Validator,
    data: bytes,
    numbers: list[int],
    spec: SourceSpec,
    layout: CsvLayout | None,
) -> None:
    """Run the lines the SQL left (by number) through the Python validator."""
    paths = json_paths(spec) if layout is None else {}
    scales = {c: s for c, (_, s) in layout.columns.items() if s != 1.0} if layout else {}
    for n, line in _lines(data, numbers):
        if layout is None:
            record = json_line(n, line)
            if record is not None:
                line_no, event, problem = record
                values = {} if event is None else ga4_values(event, paths)
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
