"""The hash chain both ledgers are written in: the one place that hashes, appends and verifies.

A ledger is an append-only JSON-lines file; each entry carries the hash of the previous one
(``prev_hash``) and its own ``hash`` = sha256 of the previous hash + the entry's canonical JSON
(sorted keys, no spaces). Editing, inserting, reordering or deleting any line breaks every
hash after it, and :func:`read_chain` names the first line that does not follow.
The approval ledger (:mod:`.approvals`) and the decision ledger (:mod:`.decisions`) are both
read and extended here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "GENESIS",
    "LedgerTampered",
    "append_link",
    "canonical",
    "chain_hash",
    "read_chain",
]

GENESIS = "0" * 64


class LedgerTampered(RuntimeError):
    """A ledger line does not match its hash chain (or a payload its hash)."""


def canonical(entry: dict) -> str:
    """The one JSON form entries are hashed and written in (sorted keys, no spaces)."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, entry: dict) -> str:
    """The hash of an entry (without its own ``hash``) following ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def _check_link(name: str, n: int, entry: dict, prev: str) -> None:
    body = {k: v for k, v in entry.items() if k != "hash"}
    if entry.get("prev_hash") != prev:
        raise LedgerTampered(
            f"{name} line {n}: does not follow line {n - 1} (hash chain broken: "
            "an entry was removed, inserted or reordered)"
        )
    if entry.get("hash") != chain_hash(prev, body):
        raise LedgerTampered(
            f"{name} line {n}: content does not match its hash (hash chain "
            "broken: an entry was edited)"
        )


def read_chain(path: Path, verify: bool = True) -> list[dict]:
    """Every entry of a hash-chained JSONL ledger, oldest first (none when the file is
    missing); raises :class:`LedgerTampered` naming the first line that breaks the chain."""
    if not path.exists():
        return []
    entries, prev = [], GENESIS
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LedgerTampered(f"{path.name} line {n}: not JSON ({exc})") from exc
        if verify:
            _check_link(path.name, n, entry, prev)
        prev = entry.get("hash", "")
        entries.append(entry)
    return entries


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time across processes (a run and `marketing-ops forget`, say)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.stem}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_link(path: Path, fields: dict) -> dict:
    """Append one entry: ``fields`` plus ``seq`` (its position from 1), ``prev_hash`` and
    its ``hash``. Refuses to extend a broken chain; returns the entry."""
    with _locked(path):
        entries = read_chain(path)
        prev = entries[-1]["hash"] if entries else GENESIS
        body = {**fields, "seq": len(entries) + 1, "prev_hash": prev}
        entry = {**body, "hash": chain_hash(prev, body)}
        with path.open("a") as f:
            f.write(canonical(entry) + "\n")
    return entry
