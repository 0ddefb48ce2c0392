"""Where files sit: waiting in ``inbox/<source>/``, kept in ``archive/<source>/`` under their
hash, or set aside in ``quarantine/<source>/`` beside a ``<name>.error.json`` that says why.

Only complete files are taken: temporary names (``.tmp``, ``.part``, ``~$...``, dot-files)
are left alone, and a file modified within the settle time, or while it was read, waits for a
later run. What is archived or quarantined is a copy of the exact bytes that were read
(verified by hash), never the inbox entry itself: a symlink's target is copied, not the link,
and a file rewritten after the read stays in the inbox as the new version it is.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marketing_ops.config import DataHome
from marketing_ops.signals.ingest.read import file_hash as content_hash
from marketing_ops.signals.readers import UnreadableFile
from marketing_ops.signals.rows import scrub

__all__ = [
    "InboxEntry",
    "archive_copy",
    "archive_path",
    "inbox_files",
    "is_temporary",
    "quarantine",
    "read_if_unchanged",
    "remove_if_unchanged",
    "safe_name",
    "settled_files",
]

_IN_PROGRESS = (".tmp", ".part", ".crdownload", ".partial", ".download", ".filepart")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_WAIT = 2.0  # seconds a run waits for a just-written file to settle before moving on


@dataclass(frozen=True)
class InboxEntry:
    """An inbox file as it was seen: its size and mtime, to tell whether it changed since."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> InboxEntry:
        stat = path.stat()  # follows a symlink: the bytes are the target's
        return cls(path, stat.st_size, stat.st_mtime_ns)

    def unchanged(self) -> bool:
        try:
            return InboxEntry.of(self.path) == self
        except OSError:
            return False


def is_temporary(name: str) -> bool:
    """A name a tool writes to before the file is complete (or an editor's lock file)."""
    lowered = name.lower()
    return name.startswith((".", "~$")) or lowered.endswith(_IN_PROGRESS)


def inbox_files(home: DataHome, source: str) -> list[Path]:
    """Files in ``inbox/<source>/``, oldest first; temporary names are left alone."""
    folder = home.source_inbox(source)
    if not folder.is_dir():
        return []
    files = []
    for p in folder.iterdir():
        try:
            if p.is_file() and not is_temporary(p.name):
                files.append((p.stat().st_mtime_ns, p.name, p))
        except OSError:
            continue  # gone, or a link to nowhere: nothing to read
    # Oldest first: when two files carry the same rows, the one dropped last wins.
    return [p for _, _, p in sorted(files)]


def settled_files(
    paths: list[Path],
    settle_seconds: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[InboxEntry], list[Path]]:
    """Split files into settled ones (unchanged for ``settle_seconds``) and those still being
    written. When the youngest file settles within ``_MAX_WAIT`` seconds the run waits that
    long and looks again; a file changed meanwhile or still too recent waits for a later run."""
    entries = [e for e in map(_entry, paths) if e is not None]
    young = [e for e in entries if clock() - e.mtime_ns / 1e9 < settle_seconds]
    if young:
        wait = max(e.mtime_ns for e in young) / 1e9 + settle_seconds - clock()
        if 0 < wait <= _MAX_WAIT:
            sleep(wait)
    ready, waiting = [], []
    for e in entries:
        settled = e.unchanged() and clock() - e.mtime_ns / 1e9 >= settle_seconds
        (ready if settled else waiting).append(e if settled else e.path)
    return ready, waiting


def _entry(path: Path) -> InboxEntry | None:
    try:
        return InboxEntry.of(path)
    except OSError:
        return None


def read_if_unchanged(entry: InboxEntry) -> bytes | None:
    """The file's bytes, or None when it changed (size or mtime) while it was read."""
    data = entry.path.read_bytes()
    return data if entry.unchanged() and len(data) == entry.size else None


def remove_if_unchanged(entry: InboxEntry) -> None:
    """Take a stored file out of the inbox, unless a new version was written since."""
    if entry.unchanged():
        entry.path.unlink()


def safe_name(name: str, file_hash: str, max_length: int) -> str:
    """``name`` when it fits ``max_length`` bytes; else a short name that keeps the start and
    the extension, prefixed by the hash so two long names never collide."""
    if len(name.encode()) <= max_length and "/" not in name:
        return name
    stem, dot, ext = name.rpartition(".")
    ext = _UNSAFE.sub("_", ext)[:12] if dot and len(ext) <= 12 else ""
    head = _UNSAFE.sub("_", stem if dot else name)[:40]
    return f"{file_hash[:12]}__{head}{'.' + ext if ext else ''}"


def archive_path(home: DataHome, source: str, file_hash: str, name: str) -> Path:
    return home.archive / source / f"{file_hash}__{name}"


_VERIFY_CHUNK = 1 << 22


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data`` (read back in chunks: no second
    copy of a large file in memory; the same bytes as hashed have the same hash)."""
    buffer = bytearray(_VERIFY_CHUNK)
    position = 0
    with path.open("rb", buffering=0) as stored:
        while n := stored.readinto(buffer):
            chunk = buffer if n == _VERIFY_CHUNK else buffer[:n]
            if not data.startswith(chunk, position):
                return False
            position += n
    return position == len(data)


def _store_copy(data: bytes, target: Path, file_hash: str) -> None:
    """Write ``data`` (whose sha256 is ``file_hash``) to ``target`` through a temporary name,
    then check the stored file reads back as exactly those bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and not target.is_symlink():
        if target.stat().st_size == len(data) and _holds(target, data):
            return  # identical content already stored
    temporary = target.with_name(f".{file_hash[:12]}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    if not _holds(target, data):
        raise OSError(f"{target}: the stored copy does not match the bytes read")


def archive_copy(home: DataHome, source: str, data: bytes, file_hash: str, name: str) -> Path:
    """Keep the bytes that were loaded under their hash; return where."""
    target = archive_path(home, source, file_hash, name)
    _store_copy(data, target, file_hash)
    return target


def quarantine(
    home: DataHome,
    source: str,
    name: str,
    data: bytes,
    file_hash: str,
    error: UnreadableFile,
    stored_name: str,
) -> Path:
    """Keep the bytes of an unloadable file in ``quarantine/<source>/`` (under
    ``stored_name``: the name, or its shortened form) with its error file."""
    folder = home.quarantine / source
    target = folder / stored_name
    if target.exists() and content_hash(target.read_bytes()) != file_hash:
        target = folder / f"{file_hash[:12]}__{stored_name}"
    _store_copy(data, target, file_hash)
    report = {
        "file": name,
        "stored_as": target.name,
        "source": source,
        "file_hash": file_hash,
        "line": error.line,
        "field": error.field,
        "reason": scrub(error.reason),
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    target.with_name(target.name + ".error.json").write_text(json.dumps(report, indent=2))
    return target
