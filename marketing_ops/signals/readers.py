"""From file bytes to records with their line numbers, whatever the exporting tool did.

Handles what real exports do: gzip, UTF-8 with or without BOM, UTF-16 with BOM, `,` `;` or
tab delimiters, a report title above the header (Google Ads UI), `Total` rows at the bottom,
a ``Parameters:TimeZone=...`` first line (Google Ads offline import), newline-delimited JSON.

A file that cannot be read at all raises :class:`UnreadableFile`; it is quarantined whole.
A single bad line is not an unreadable file: it comes back as a record problem so the rest
of the file still loads.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marketing_ops.signals.sources import SourceSpec

__all__ = [
    "UnreadableFile",
    "CsvLayout",
    "CsvTable",
    "csv_record",
    "decode_bytes",
    "iter_jsonl",
    "json_line",
    "looks_like_json",
    "read_csv_records",
    "read_json_records",
    "sniff_csv",
]

_DELIMITERS = (",", ";", "\t")
_HEADER_SEARCH_LINES = 10  # a report title and a date-range line come before the header
_TOTAL_ROW = re.compile(r"\s*total\b", re.IGNORECASE)  # Google Ads UI summary rows
_HEAD_CHARS = 1 << 16  # the header is found in the first 64 KiB


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded; carries what the error file reports."""

    def __init__(self, reason: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.field = field


@dataclass(frozen=True)
class CsvLayout:
    """Where the data of a CSV export starts and how its header maps onto canonical columns."""

    header_line: int  # 1-based physical line of the header
    delimiter: str
    header: list[str]
    columns: dict[str, tuple[int, float]]  # canonical column -> (cell index, scale)
    time_zone: ZoneInfo | None

    @property
    def width(self) -> int:
        return len(self.header)


@dataclass
class CsvTable:
    """A CSV export mapped onto canonical columns.

    ``records`` yields ``(line, values, problem)``: values by canonical column (raw strings),
    or a problem text when the line itself is broken (wrong number of fields)."""

    header_line: int
    columns: dict[str, tuple[int, float]]  # canonical column -> (cell index, scale)
    header: list[str]
    time_zone: ZoneInfo | None
    records: Iterable[tuple[int, dict[str, Any], str | None]] = field(repr=False)


def decode_bytes(data: bytes) -> str:
    """Bytes to text: gunzip if gzipped, then UTF-8 (BOM or not), UTF-16 with a BOM, or else
    Windows-1252 / Latin-1."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise UnreadableFile(f"gzip file is truncated or corrupt: {exc}") from exc
    if data[:3] == b"\xef\xbb\xbf":
        data, encoding = data[3:], "utf-8"
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if b"\x00" in data[:4096]:
            raise UnreadableFile("binary content (NUL bytes) where text was expected")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            line = data[: exc.start].count(b"\n") + 1
            raise UnreadableFile(
                f"not valid {encoding.upper()} at byte {exc.start} (expected UTF-8, UTF-8 with "
                "BOM, UTF-16 with BOM or Windows-1252)",
                line=line,
            ) from exc
        text = _single_byte(data)
    if not text.strip():
        raise UnreadableFile("empty file")
    if "\x00" in text:
        raise UnreadableFile("binary content (NUL characters) in the text")
    return text


def _single_byte(data: bytes) -> str:
    """Not UTF-8: Excel's "CSV" on Windows writes Windows-1252 (Latin-1 plus curly quotes and
    the euro sign in 0x80-0x9F); the five bytes it leaves undefined fall back to Latin-1."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _norm(header: str) -> str:
    return header.strip().strip('"').strip().lower()


def _time_zone(line: str) -> ZoneInfo:
    """``Parameters:TimeZone=Europe/Berlin`` (other ``;``-separated parameters ignored)."""
    params = line.strip().strip('"').split(":", 1)[1]
    for part in params.replace(",", ";").split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "timezone" and value.strip():
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise UnreadableFile(
                    f"unknown time zone {value.strip()!r}", line=1, field="TimeZone"
                ) from exc
    raise UnreadableFile("Parameters line without TimeZone=...", line=1, field="TimeZone")


def _map_header(cells: list[str], spec: SourceSpec) -> dict[str, tuple[int, float]]:
    """Canonical column -> (cell index, scale), first accepted variant in YAML order wins."""
    index: dict[str, int] = {}
    for i, cell in enumerate(cells):
        index.setdefault(_norm(cell), i)
    mapped: dict[str, tuple[int, float]] = {}
    for column, rule in spec.columns.items():
        for variant in rule.headers:
            i = index.get(_norm(variant.name))
            if i is not None:
                mapped[column] = (i, variant.scale)
                break
    return mapped


def sniff_csv(head: str, spec: SourceSpec) -> CsvLayout:
    """Find the header in the first lines of an export (``head``: its text, or just its
    beginning): an optional ``Parameters:`` line, report title lines, then the header row whose
    split (``,`` ``;`` or tab) matches most known headers. Raises UnreadableFile when no header
    has every required column."""
    lines = head.splitlines()
    time_zone = None
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first < len(lines) and lines[first].strip().strip('"').lower().startswith("parameters:"):
        time_zone = _time_zone(lines[first])
        first += 1

    best: tuple[int, int, str, list[str], dict[str, tuple[int, float]]] | None = None
    for n in range(first, min(len(lines), first + _HEADER_SEARCH_LINES)):
        for delimiter in _DELIMITERS:
            if delimiter not in lines[n] and len(spec.columns) > 1:
                continue
            cells = next(csv.reader([lines[n]], delimiter=delimiter), [])
            mapped = _map_header(cells, spec)
            if best is None or len(mapped) > best[1]:
                best = (n, len(mapped), delimiter, cells, mapped)
    if best is None or best[1] == 0:
        raise UnreadableFile("no header row with known column names found", line=first + 1)
    header_index, _, delimiter, header, mapped = best
    _require_columns(spec, mapped, header_index + 1)
    _refuse_duplicated_headers(spec, header, header_index + 1)
    return CsvLayout(header_index + 1, delimiter, header, mapped, time_zone)


def _refuse_duplicated_headers(spec: SourceSpec, header: list[str], line: int) -> None:
    """A header name the source reads, present twice: which column is the value is a guess."""
    known = {_norm(v.name) for rule in spec.columns.values() for v in rule.headers}
    seen: dict[str, int] = {}
    for i, cell in enumerate(header, start=1):
        name = _norm(cell)
        if name in known and name in seen:
            raise UnreadableFile(
                f"duplicated header name {cell.strip()!r} (columns {seen[name]} and {i}): "
                "which one holds the value is ambiguous",
                line=line,
                field=cell.strip(),
            )
        seen.setdefault(name, i)


def _require_columns(spec: SourceSpec, mapped: dict[str, Any], line: int | None) -> None:
    missing = [c for c, rule in spec.columns.items() if rule.header_required and c not in mapped]
    if missing:
        names = " / ".join(v.name for v in spec.columns[missing[0]].headers)
        raise UnreadableFile(
            f"required column missing: {missing[0]} (accepted headers: {names})",
            line=line,
            field=missing[0],
        )


def csv_record(
    cells: list[str], line: int, layout: CsvLayout
) -> tuple[int, dict[str, Any], str | None] | None:
    """One parsed CSV record: None for blank and report-summary rows (not data), else
    ``(line, values by canonical column, problem)``."""
    # A blank row has only blank cells; the first cell settles it for almost every data row
    # (checking it before the scan over all cells gives the same answer).
    if not cells or (not cells[0].strip() and all(not c.strip() for c in cells)):
        return None
    if _TOTAL_ROW.match(cells[0]):
        return None  # report summary rows (Google Ads UI): derived, not data
    if len(cells) != layout.width:
        return line, {}, f"row has {len(cells)} fields, header has {layout.width}"
    return line, {c: cells[i] for c, (i, _) in layout.columns.items()}, None


def read_csv_records(text: str, spec: SourceSpec) -> CsvTable:
    """Sniff the layout, then stream the records below the header."""
    layout = sniff_csv(text[:_HEAD_CHARS], spec)

    def records() -> Iterator[tuple[int, dict[str, Any], str | None]]:
        body = io.StringIO(text, newline="")
        # Skip up to and including the header, counting physical lines as csv does.
        reader = csv.reader(body, delimiter=layout.delimiter)
        while reader.line_num < layout.header_line:
            next(reader)
        consumed = reader.line_num
        for cells in reader:
            start_line = consumed + 1
            consumed = reader.line_num
            record = csv_record(cells, start_line, layout)
            if record is not None:
                yield record

    return CsvTable(layout.header_line, layout.columns, layout.header, layout.time_zone, records())


def looks_like_json(text: str) -> bool:
    """A JSON document or JSON lines rather than delimited text."""
    return text.lstrip()[:1] in ("[", "{")


def read_json_records(text: str, spec: SourceSpec) -> CsvTable:
    """JSON records (an array, one object per line, or an API page ``{"data": [...]}``) mapped
    onto canonical columns by key, like headers. Keys are taken from every record; a record's
    ``line`` is its position (1-based). A document that is not valid JSON is unreadable."""
    stripped = text.strip()
    records: list[tuple[int, Any, str | None]]
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{") and exc.msg == "Extra data":
            records = list(iter_jsonl(text))  # one object per line
        else:
            raise UnreadableFile(
                f"invalid JSON document: {exc.msg} at line {exc.lineno} column {exc.colno}",
                line=exc.lineno,
            ) from exc
    else:
        if isinstance(document, dict) and isinstance(document.get("data"), list):
            document = document["data"]
        elif isinstance(document, dict):
            document = [document]
        if not isinstance(document, list):
            raise UnreadableFile("JSON document is neither a list of records nor {data: [...]}")
        records = [
            (i, item, None if isinstance(item, dict) else "JSON record is not an object")
            for i, item in enumerate(document, start=1)
        ]
    keys: dict[str, str] = {}
    for _, item, _ in records:
        if isinstance(item, dict):
            for key in item:
                keys.setdefault(_norm(str(key)), str(key))
    mapped: dict[str, tuple[str, float]] = {}
    for column, rule in spec.columns.items():
        for variant in rule.headers:
            key = keys.get(_norm(variant.name))
            if key is not None:
                mapped[column] = (key, variant.scale)
                break
    _require_columns(spec, mapped, None)

    def values() -> Iterator[tuple[int, dict[str, Any], str | None]]:
        for position, item, problem in records:
            if problem is not None or not isinstance(item, dict):
                yield position, {}, problem or "JSON record is not an object"
                continue
            yield position, {c: item.get(k) for c, (k, _) in mapped.items()}, None

    columns = {c: (i, scale) for i, (c, (_, scale)) in enumerate(mapped.items())}
    return CsvTable(0, columns, list(keys.values()), None, values())


def json_line(n: int, line: str) -> tuple[int, dict[str, Any] | None, str | None] | None:
    """One line of JSON lines: None when blank, else ``(line, event, problem)``."""
    if not line.strip():
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        return n, None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(event, dict):
        return n, None, "JSON line is not an object"
    return n, event, None


def iter_jsonl(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """``(line, event, problem)`` per non-blank line; a broken line is a problem, not a stop."""
    for n, line in enumerate(text.split("\n"), start=1):
        record = json_line(n, line)
        if record is not None:
            yield record
