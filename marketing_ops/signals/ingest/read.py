"""Reading one file: its hash, the day its name hints at, and its records by canonical column.

CSV and JSON records come from :mod:`marketing_ops.signals.readers`; GA4's nested JSON lines
are flattened here, one column per configured path (``event_params.<key>`` included).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from marketing_ops.signals.limits import IngestLimits
from marketing_ops.signals.readers import (
    UnreadableFile,
    iter_jsonl,
    looks_like_json,
    read_csv_records,
    read_json_records,
)
from marketing_ops.signals.sources import SourcesConfig, SourceSpec

__all__ = [
    "Record",
    "file_hash",
    "ga4_values",
    "head_and_lines",
    "json_paths",
    "name_day",
    "records",
]

_NAME_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})(?!\d)")
HEAD_BYTES = 1 << 16
_CHUNK = 1 << 22
_PREAMBLE_LINES = 12  # a Parameters line, report titles and the header above the rows
_PARAM_KINDS = ("string_value", "int_value", "double_value", "float_value")

Record = tuple[int, dict[str, Any], str | None]  # (line, values by column, problem)
JsonPaths = dict[str, list[tuple[str, str | None]]]


def name_day(name: str) -> date | None:
    """The ``_YYYY-MM-DD`` in a file name, if any (a hint: the dates inside win)."""
    match = _NAME_DATE.search(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _resolver(path: str) -> tuple[str, str | None]:
    head, _, leaf = path.partition(".")
    return head, (leaf or None)


def json_paths(spec: SourceSpec) -> JsonPaths:
    """Column -> candidate ``(object, key)`` paths of a JSON-lines source."""
    return {c: [_resolver(p) for p in rule.paths] for c, rule in spec.columns.items()}


def _event_params(event: dict[str, Any]) -> dict[str, Any]:
    """GA4 ``event_params`` as ``{key: first non-null typed value}``."""
    params: dict[str, Any] = {}
    listed = event.get("event_params")
    if not isinstance(listed, list):
        return params
    for p in listed:
        if isinstance(p, dict) and "key" in p:
            v = p.get("value")
            first = None
            if isinstance(v, dict):  # anything else holds no typed value
                for kind in _PARAM_KINDS:
                    first = v.get(kind)
                    if first is not None:
                        break
            params[p["key"]] = first
    return params


def ga4_values(event: dict[str, Any], paths: JsonPaths) -> dict[str, Any]:
    """Flatten one GA4 event: for each column, the first path whose parent object exists
    (an ``event_params`` path: whose key is among the event's parameters)."""
    get = event.get
    params: dict[str, Any] | None = None  # parsed once, when a column first needs it
    out: dict[str, Any] = {}
    for column, candidates in paths.items():
        value = None
        for head, leaf in candidates:
            if leaf is None:
                value = get(head)
                break
            if head == "event_params":
                if params is None:
                    params = _event_params(event)
                if leaf in params:
                    value = params[leaf]
                    break
                continue
            parent = get(head)
            if isinstance(parent, dict):
                value = parent.get(leaf)
                break
        out[column] = value
    return out


def records(
    source: str, text: str, config: SourcesConfig
) -> tuple[Iterator[Record], dict[str, float], Any, int]:
    """The file's records, the unit scales of its header variants, its time zone and its
    width (header cells, or distinct JSON keys)."""
    spec = config.sources[source]
    if spec.format == "jsonl":
        paths = json_paths(spec)

        def events() -> Iterator[Record]:
            for line, event, problem in iter_jsonl(text):
                yield line, ({} if event is None else ga4_values(event, paths)), problem

        return events(), {}, None, 0
    if spec.json_records and looks_like_json(text):
        table = read_json_records(text, spec)
    else:
        table = read_csv_records(text, spec)
    scales = {c: s for c, (_, s) in table.columns.items() if s != 1.0}
    return iter(table.records), scales, table.time_zone, len(table.header)


def head_and_lines(data: bytes, newlines: int | None = None) -> tuple[bytes, int, bool] | None:
    """The first 64 KiB of the content, its physical line count, and whether it is gzipped;
    None when a lone CR makes lines ambiguous (Python's csv and DuckDB would disagree).
    ``newlines``: the plain content's count of ``\\n`` when already known (:func:`check_size`)."""
    if data[:2] != b"\x1f\x8b":
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            return None
        newlines = data.count(b"\n") if newlines is None else newlines
        lines = newlines + (0 if data.endswith(b"\n") else 1)
        return data[:HEAD_BYTES], lines, False
    return _gzip_head_and_lines(data)


def _gzip_head_and_lines(data: bytes) -> tuple[bytes, int, bool] | None:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    head, newlines, crs, crlfs, last = b"", 0, 0, 0, b""
    try:
        for start in range(0, len(data), 1 << 22):
            chunk = inflater.decompress(data[start : start + (1 << 22)])
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
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


def check_size(data: bytes, limits: IngestLimits) -> int | None:
    """UnreadableFile when the content (decompressed, never more than the limit plus one
    chunk held at once) is over ``max_file_bytes`` or has more lines than ``max_rows`` allows.
    Returns the count of ``\\n`` of plain (not gzipped) content, for :func:`head_and_lines`."""
    if data[:2] == b"\x1f\x8b":
        size, lines = _inflated_size(data, limits.max_file_bytes)
    else:
        size, lines = len(data), data.count(b"\n")
    if size > limits.max_file_bytes:
        raise UnreadableFile(
            f"content larger than the limit of {limits.max_file_bytes} bytes "
            "(settings: limits.max_file_bytes)"
        )
    if lines > limits.max_rows + _PREAMBLE_LINES:
        raise UnreadableFile(f"more than {limits.max_rows} rows (settings: limits.max_rows)")
    return None if data[:2] == b"\x1f\x8b" else lines


def _inflated_size(data: bytes, most: int) -> tuple[int, int]:
    """Decompressed size and newline count of gzip ``data`` (every member), stopping as soon
    as the size passes ``most``; a corrupt stream is left for the reader to report."""
    size = lines = 0
    rest = data
    while rest[:2] == b"\x1f\x8b" and size <= most:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and size <= most:
                out = inflater.decompress(pending, _CHUNK)
                size, lines = size + len(out), lines + out.count(b"\n")
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error:
            return size, lines
        if not inflater.eof:
            return size, lines
        rest = inflater.unused_data
    return size, lines
