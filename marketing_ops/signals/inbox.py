"""What waits in the inbox, which days it describes, and which day ranges to load.

The inbox sensor (``marketing_ops/defs/signals/sensors.py``) is a thin shell around two pure
steps:

- :func:`scan_inbox` reads each new file once (DuckDB in memory, never the warehouse, so a run
  holding the warehouse never blocks it) to learn its content hash and the days inside it; a
  cache carried in the sensor's cursor skips files seen before (same name, size and mtime).
- :func:`plan_loads` maps files to the partitions they touch and merges overlapping or
  adjacent day ranges: two years of daily files become one ranged run (the assets' single-run
  backfill policy), a late file for an old day its own small run. Each request's run key is
  the hash of the file contents it covers, so a tick that sees the same files asks for nothing
  new, and a file that is dropped again (same bytes) needs no second run.

A file that cannot be read is still planned (its run quarantines it, with its error file); one
that belongs to no partition waits in the inbox and is reported, never dropped; so does a file
in a folder that names no known source. A file modified within the settle time
(``settings/signals.yaml``) is not read yet: it is still being written. Nothing a file holds
makes the scan fail: whatever cannot be read is reported unreadable.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.currency import Reporting, load_reporting
from marketing_ops.signals.ingest import (
    BULK_MIN_BYTES,
    inbox_files,
    name_day,
    parse_signal_file,
)
from marketing_ops.signals.ingest.files import is_temporary
from marketing_ops.signals.limits import IngestLimits, load_limits
from marketing_ops.signals.sources import SOURCES

__all__ = [
    "InboxFile",
    "LoadRequest",
    "LoadPlan",
    "PendingFile",
    "pending_files",
    "plan_loads",
    "scan_file",
    "scan_inbox",
    "unknown_folders",
]

_SCAN_KEY = b"inbox-scan"  # rows are thrown away after the scan: any key will do


@dataclass(frozen=True)
class InboxFile:
    """A file waiting in ``inbox/<source>/``: its content hash and the days inside it."""

    source: str
    name: str
    size: int
    mtime_ns: int
    file_hash: str
    day: date | None  # the day it is filed under (None: no valid row and no date in its name)
    days: tuple[date, ...]  # every day its valid rows describe
    readable: bool

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"

    def to_cache(self) -> list[Any]:
        return [
            self.size,
            self.mtime_ns,
            self.file_hash,
            self.day.isoformat() if self.day else None,
            [d.isoformat() for d in self.days],
            self.readable,
        ]

    @classmethod
    def from_cache(cls, key: str, entry: list[Any]) -> InboxFile:
        source, _, name = key.partition("/")
        size, mtime_ns, file_hash, day, days, readable = entry
        return cls(
            source,
            name,
            int(size),
            int(mtime_ns),
            str(file_hash),
            date.fromisoformat(day) if day else None,
            tuple(date.fromisoformat(d) for d in days),
            bool(readable),
        )


# Kept for the callers of the first version: the same facts, by path.
@dataclass(frozen=True)
class PendingFile:
    """A file waiting in the inbox, for a sensor to request the right partitions."""

    path: Path
    file_hash: str
    day: date | None
    days: tuple[date, ...]
    readable: bool


def scan_file(
    source: str,
    path: Path,
    *,
    today: date | None = None,
    reporting: Reporting | None = None,
    limits: IngestLimits | None = None,
) -> InboxFile:
    """Hash one file and find the days inside it (validating it like a load would, within
    the same limits); a file that cannot be read, for any reason, is reported unreadable."""
    data = path.read_bytes()
    stat = path.stat()
    file_hash = hashlib.sha256(data).hexdigest()
    unreadable = InboxFile(
        source, path.name, stat.st_size, stat.st_mtime_ns, file_hash, name_day(path.name), (),
        False,
    )  # fmt: skip
    if source not in SOURCES:
        return unreadable
    # Big files are read in bulk by an in-memory DuckDB; small ones faster in Python.
    con = duckdb.connect(":memory:") if len(data) >= BULK_MIN_BYTES else None
    try:
        parsed = parse_signal_file(
            source,
            data,
            path.name,
            _SCAN_KEY,
            today or datetime.now(UTC).date(),
            reporting=reporting,
            con=con,
            path=path,
            file_hash=file_hash,
            limits=limits,
        )
    except Exception:  # noqa: BLE001 - its run quarantines it with the reason
        return unreadable
    finally:
        if con is not None:
            con.close()
    return InboxFile(
        source,
        path.name,
        stat.st_size,
        stat.st_mtime_ns,
        file_hash,
        parsed.day,
        tuple(sorted(parsed.days)),
        True,
    )


def scan_inbox(
    home: DataHome,
    cache: Mapping[str, list[Any]] | None = None,
    *,
    sources: Iterable[str] = SOURCES,
    today: date | None = None,
    budget_seconds: float | None = None,
) -> tuple[list[InboxFile], bool]:
    """Every file waiting in the inbox; ``(files, complete)``.

    Files whose name, size and mtime match ``cache`` are not read again. With
    ``budget_seconds`` the scan stops reading new files once the budget is spent and returns
    ``complete=False`` (the next tick continues from the files it has cached)."""
    cache = cache or {}
    reporting = load_reporting(home.reference)
    limits = load_limits(home.settings)
    started = time.monotonic()
    files: list[InboxFile] = []
    complete = True
    folders = [*sources, *(unknown_folders(home) if sources is SOURCES else [])]
    for source in folders:
        for path in inbox_files(home, source):
            try:
                stat = path.stat()
            except OSError:
                continue  # gone since it was listed
            if time.time() - stat.st_mtime_ns / 1e9 < limits.settle_seconds:
                continue  # still being written: a later tick reads it
            key = f"{source}/{path.name}"
            entry = cache.get(key)
            if entry is not None and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                files.append(InboxFile.from_cache(key, entry))
                continue
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                complete = False
                continue
            try:
                found = scan_file(source, path, today=today, reporting=reporting, limits=limits)
            except OSError:
                continue  # gone or unreadable by this process now: the next tick tries again
            files.append(found)
    return files, complete


def unknown_folders(home: DataHome) -> list[str]:
    """Folders of the inbox that name no known source: their files would wait forever."""
    if not home.inbox.is_dir():
        return []
    return sorted(
        p.name
        for p in home.inbox.iterdir()
        if p.is_dir() and p.name not in SOURCES and not is_temporary(p.name)
    )


def pending_files(home: DataHome, source: str) -> list[PendingFile]:
    """Files waiting in ``inbox/<source>/`` with their hash and the days inside them."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    files, _ = scan_inbox(home, sources=[source])
    folder = home.source_inbox(source)
    return [PendingFile(folder / f.name, f.file_hash, f.day, f.days, f.readable) for f in files]


@dataclass(frozen=True)
class LoadRequest:
    """One run to ask for: the days ``start``..``end`` of ``sources``, covering ``files``."""

    start: date
    end: date
    sources: tuple[str, ...]
    files: tuple[str, ...]  # "source/name" of the files it covers
    run_key: str


@dataclass(frozen=True)
class LoadPlan:
    requests: list[LoadRequest]
    waiting: list[tuple[str, str]]  # ("source/name", why no run can take it)


def plan_loads(files: Iterable[InboxFile], first: date, last: date) -> LoadPlan:
    """Day ranges to load so every file lands in the partitions it describes.

    ``first``..``last`` are the partitions that exist. A file covers its days and the day it
    is filed under; one with no day at all (unreadable and undated, or no valid row) can be
    taken by any run, so it joins the last partition's. Overlapping or adjacent ranges merge
    into one request."""
    spans: list[tuple[date, date, InboxFile]] = []
    waiting: list[tuple[str, str]] = []
    for f in sorted(files, key=lambda f: f.key):
        if f.source not in SOURCES:
            waiting.append(
                (f.key, f"unknown source folder {f.source!r}: move it to one of {list(SOURCES)}")
            )
            continue
        days = set(f.days) | ({f.day} if f.day else set())
        if f.day is not None and not first <= f.day <= last:
            waiting.append((f.key, f"filed under {f.day}, outside the partitions {first}..{last}"))
            continue
        if not days:
            days = {last}
        lo, hi = max(min(days), first), min(max(days), last)
        spans.append((lo, hi, f))
    spans.sort(key=lambda s: (s[0], s[1], s[2].key))
    groups: list[list[tuple[date, date, InboxFile]]] = []
    for span in spans:
        if groups and (span[0] - max(s[1] for s in groups[-1])).days <= 1:
            groups[-1].append(span)
        else:
            groups.append([span])
    requests = []
    for group in groups:
        covered = sorted(f"{f.source}:{f.file_hash}" for _, _, f in group)
        digest = hashlib.sha256("|".join(covered).encode()).hexdigest()[:24]
        requests.append(
            LoadRequest(
                start=min(s[0] for s in group),
                end=max(s[1] for s in group),
                sources=tuple(sorted({f.source for _, _, f in group})),
                files=tuple(sorted(f.key for _, _, f in group)),
                run_key=f"inbox-{digest}",
            )
        )
    return LoadPlan(requests, waiting)
