"""Where files sit: waiting in ``inbox/<source>/``, kept in ``archive/<source>/`` under their
hash, or set aside in ``quarantine/<source>/`` beside a ``<name>.error.json`` that says why.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from marketing_ops.config import DataHome
from marketing_ops.signals.ingest.read import file_hash as content_hash
from marketing_ops.signals.readers import UnreadableFile
from marketing_ops.signals.rows import scrub

__all__ = ["archive_path", "inbox_files", "move_to_archive", "quarantine"]

_IN_PROGRESS = (".tmp", ".part", ".crdownload", ".partial")


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


def archive_path(home: DataHome, source: str, file_hash: str, name: str) -> Path:
    return home.archive / source / f"{file_hash}__{name}"


def quarantine(
    home: DataHome, source: str, path: Path, file_hash: str, error: UnreadableFile
) -> Path:
    """Move an unreadable file to ``quarantine/<source>/`` with its error file."""
    folder = home.quarantine / source
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists() and content_hash(target.read_bytes()) != file_hash:
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


def move_to_archive(path: Path, target: Path) -> None:
    """Keep the file under its hash; identical content already archived needs no second copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        path.unlink()
    else:
        os.replace(path, target)
