"""The decision ledger: an append-only, hash-chained record of every decision batch.

``ledger/decisions.jsonl`` holds one JSON line per event (a decision batch, an erasure). Each
line carries the hash of the previous one, in the hash chain of :mod:`.chain` (the approval
ledger uses the same): sha256 of the previous hash + the entry's canonical JSON. Editing,
inserting or deleting any line breaks every hash after it.

What an entry is *about* (the batch's rows, the frames it was decided from, the policy files)
lives beside it as content-addressed payloads, ``ledger/payloads/<sha256>.<ext>``: the chain
holds their hashes, so a changed payload is detected too. Keeping payloads out of the chain is
what lets an erasure (``marketing-ops forget``) remove a person's records from them without
breaking the chain: the erasure is itself an entry that names the payloads it replaced and the
hashes of their redacted versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from marketing_ops.config import DataHome
from marketing_ops.decisioning.ledger.chain import (
    LedgerTampered,
    append_link,
    canonical,
    read_chain,
)

__all__ = [
    "LEDGER_FILE",
    "LedgerCheck",
    "append_entry",
    "batch_entries",
    "canonical",
    "erasure_map",
    "payload_path",
    "put_payload",
    "read_entries",
    "read_payload",
    "resolve_payload",
    "verify_ledger",
]

LEDGER_FILE = "decisions.jsonl"
PAYLOAD_DIR = "payloads"


def _ledger_path(home: DataHome) -> Path:
    return home.ledger / LEDGER_FILE


def payload_path(home: DataHome, ref: str) -> Path:
    """Where a payload lives: ``ref`` is ``<sha256>.<ext>``."""
    if "/" in ref or ref.startswith("."):
        raise ValueError(f"payload reference: expected <sha256>.<ext>, got {ref!r}")
    return home.ledger / PAYLOAD_DIR / ref


def put_payload(home: DataHome, data: bytes, ext: str) -> str:
    """Store bytes under their content hash; returns the reference ``<sha256>.<ext>``.

    The same bytes are stored once, however many entries refer to them."""
    ref = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    path = payload_path(home, ref)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return ref


def read_payload(home: DataHome, ref: str) -> bytes:
    """A payload's bytes, refusing ones whose content no longer matches their hash."""
    path = payload_path(home, ref)
    if not path.exists():
        raise LedgerTampered(f"ledger payload {ref} is missing")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ref.split(".", 1)[0]:
        raise LedgerTampered(f"ledger payload {ref} was altered (content does not match its hash)")
    return data


def read_entries(home: DataHome, verify: bool = True) -> list[dict]:
    """Every entry, oldest first; raises :class:`LedgerTampered` naming the first bad line."""
    return read_chain(_ledger_path(home), verify)


def append_entry(home: DataHome, kind: str, body: dict) -> dict:
    """Append one entry of ``kind`` (its fields in ``body``); refuses to extend a broken chain."""
    return append_link(
        _ledger_path(home),
        {
            **body,
            "kind": kind,
            "at": body.get("at") or datetime.now(UTC).isoformat(timespec="microseconds"),
        },
    )


def erasure_map(entries: list[dict]) -> dict[str, str]:
    """Payload reference -> the reference of its redacted replacement, across all erasures."""
    out: dict[str, str] = {}
    for e in entries:
        if e.get("kind") == "erasure":
            out.update(e.get("payloads", {}))
    return out


def resolve_payload(ref: str, replaced: dict[str, str]) -> str:
    """The payload to read for ``ref`` today: its latest redacted version, or itself."""
    seen = set()
    while ref in replaced and ref not in seen:
        seen.add(ref)
        ref = replaced[ref]
    return ref


def batch_entries(entries: list[dict], batch_id: str | None = None) -> list[dict]:
    """Decision-batch entries, optionally only those of one batch (latest last)."""
    return [
        e
        for e in entries
        if e.get("kind") == "decision_batch" and (batch_id is None or e.get("batch_id") == batch_id)
    ]


@dataclass
class LedgerCheck:
    """What :func:`verify_ledger` found: counts and every problem in plain words."""

    entries: int = 0
    batches: int = 0
    erasures: int = 0
    payloads_checked: int = 0
    payloads_redacted: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _refs(entry: dict) -> Iterator[str]:
    """The payloads an entry vouches for: a batch's own, or the redacted versions an erasure
    wrote (its ``payloads`` maps each replaced reference to its replacement)."""
    yield from (entry.get("payloads") or {}).values()


def verify_ledger(home: DataHome) -> LedgerCheck:
    """Check the chain and every payload an entry names (an erased payload must have been
    replaced by a redacted version that is itself intact)."""
    check = LedgerCheck()
    try:
        entries = read_entries(home)
    except LedgerTampered as exc:
        check.problems.append(str(exc))
        return check
    check.entries = len(entries)
    check.batches = len(batch_entries(entries))
    check.erasures = sum(1 for e in entries if e.get("kind") == "erasure")
    replaced = erasure_map(entries)
    seen: set[str] = set()
    for e in entries:
        for ref in _refs(e):
            current = resolve_payload(ref, replaced)
            if current in seen:
                continue
            seen.add(current)
            check.payloads_checked += 1
            if current != ref:
                check.payloads_redacted += 1
            try:
                read_payload(home, current)
            except LedgerTampered as exc:
                check.problems.append(f"entry {e.get('seq')} ({e.get('kind')}): {exc}")
    return check
