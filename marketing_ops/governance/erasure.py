"""Forgetting a person: ``marketing-ops forget --email ADDRESS``.

The address is keyed exactly as on the way in (:mod:`marketing_ops.signals.privacy`); from the
rows holding that key we learn the person's other identifiers (phone key, CRM contact id, deal
ids, click ids) and, from the web events of that CRM id, their device ids. Then every place the
product stored them is cleaned:

- warehouse: every row of every table holding one of those identifiers is deleted, and the
  DuckDB file is rewritten so deleted rows do not linger in free blocks;
- graph: every node or relationship holding one (and the same in each kept snapshot);
- files: every line naming the person in the archive, the quarantine and the inbox is removed
  (an archived file is renamed to its new content hash; the file log points at it), so no
  re-run of a day can bring them back;
- ledger payloads: rows naming the person are removed from the recorded input frames and
  batches, each rewritten as a new payload.

Last, the erasure is itself appended to the decision ledger: when, who asked, why, how many
records went from where, which payloads and files were replaced by which hashes, and a
``subject`` digest (sha256 of ``erasure:`` + the key) that lets an auditor holding the PII key
confirm which person it was, while the ledger names no identifier of theirs.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.decisioning.batch.replay import frame_from_parquet, frame_to_parquet
from marketing_ops.decisioning.ledger.decisions import (
    append_entry,
    batch_entries,
    erasure_map,
    payload_path,
    put_payload,
    read_entries,
    resolve_payload,
)
from marketing_ops.graph.build import list_snapshots
from marketing_ops.graph.erasure import erase_values
from marketing_ops.signals.privacy import email_key, normalise_email
from marketing_ops.warehouse import connect

__all__ = [
    "IDENTITY_COLUMNS",
    "ErasureReport",
    "Identity",
    "find_identity",
    "forget",
    "subject_digest",
]

# Columns that identify a person, and the kind of identifier each holds.
IDENTITY_COLUMNS: dict[str, str] = {
    "contact_key": "email",
    "phone_key": "phone",
    "contact_id": "crm_id",
    "user_id": "crm_id",
    "user_pseudo_id": "device",
    "gclid": "click",
    "deal_id": "deal",
    # The stitched person of the journey models: the keyed email, or ``anon:<device>``.
    "person_id": "person",
    "linked_person_id": "person",
}
# From rows matched on one kind, which other identifiers are the same person's, in this
# order. Nothing is followed from a device or a click: a shared device must not lead to
# someone else. The person ids are the email keys and ``anon:`` + each device found so far;
# the identity links then add the devices stitched to the person by a click.
FOLLOWS: dict[str, tuple[str, ...]] = {
    "email": ("phone", "crm_id", "click", "deal"),
    "crm_id": ("device",),
    "person": ("device",),
}
ANONYMOUS = "anon:"
# Identifiers that appear verbatim in exported files (keys never do; the raw email does).
FILE_KINDS = ("crm_id", "device", "click", "deal")


@dataclass
class Identity:
    """A person's identifiers, by kind (``email`` holds the keyed address)."""

    email: str
    ids: dict[str, set[str]] = field(default_factory=dict)

    def values(self) -> list[str]:
        return sorted({v for values in self.ids.values() for v in values})

    def file_tokens(self) -> set[str]:
        """The raw address and every identifier an export would carry verbatim."""
        return {self.email} | {v for k in FILE_KINDS for v in self.ids.get(k, ())}

    def file_pattern(self) -> re.Pattern[str]:
        """Whole-token match of any of :meth:`file_tokens`."""
        tokens = self.file_tokens()
        alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
        return re.compile(rf"(?<![\w.+-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@dataclass
class ErasureReport:
    subject: str
    identifiers: dict[str, int] = field(default_factory=dict)
    warehouse: dict[str, int] = field(default_factory=dict)
    graph: dict[str, int] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    payloads: dict[str, str] = field(default_factory=dict)
    entry: dict | None = None

    @property
    def records(self) -> int:
        return (
            sum(self.warehouse.values())
            + sum(self.graph.values())
            + sum(f["lines_removed"] for f in self.files)
        )


def subject_digest(contact_key: str) -> str:
    """What the ledger keeps about who was erased: not the key, but provably derived from it."""
    return hashlib.sha256(f"erasure:{contact_key}".encode()).hexdigest()


def _identity_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, list[str]]]:
    rows = con.execute(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and c.column_name in (select unnest(?)) "
        "order by 1, 2, c.ordinal_position",
        [list(IDENTITY_COLUMNS)],
    ).fetchall()
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), []).append(column)
    return [(s, t, cols) for (s, t), cols in tables.items()]


def _where(columns: list[str]) -> str:
    # Column names come from the catalog and IDENTITY_COLUMNS; values are parameters.
    return " or ".join(f'cast("{c}" as varchar) in (select unnest(?))' for c in columns)


def find_identity(con: duckdb.DuckDBPyConnection, email: str, contact_key: str) -> Identity:
    """The person's identifiers, found from the rows that hold their keyed address."""
    identity = Identity(email, {"email": {contact_key}})
    tables = _identity_tables(con)
    for kind, follows in FOLLOWS.items():
        if kind == "person":
            _person_ids(identity)
        known = sorted(identity.ids.get(kind, ()))
        if not known:
            continue
        for schema, table, columns in tables:
            match = [c for c in columns if IDENTITY_COLUMNS[c] == kind]
            wanted = [c for c in columns if IDENTITY_COLUMNS[c] in follows]
            if not match or not wanted:
                continue
            select = ", ".join(f'cast("{c}" as varchar)' for c in wanted)
            rows = con.execute(
                f'select distinct {select} from "{schema}"."{table}" where {_where(match)}',
                [known] * len(match),
            ).fetchall()
            for row in rows:
                for column, value in zip(wanted, row, strict=True):
                    if value not in (None, ""):
                        identity.ids.setdefault(IDENTITY_COLUMNS[column], set()).add(value)
    _person_ids(identity)
    return identity


def _person_ids(identity: Identity) -> None:
    """The journey models' person ids for what is known so far (see :data:`FOLLOWS`)."""
    identity.ids["person"] = set(identity.ids.get("email", ())) | {
        ANONYMOUS + d for d in identity.ids.get("device", ())
    }


def _erase_warehouse(con: duckdb.DuckDBPyConnection, identity: Identity) -> dict[str, int]:
    counts = {}
    for schema, table, columns in _identity_tables(con):
        usable = [c for c in columns if identity.ids.get(IDENTITY_COLUMNS[c])]
        if not usable:
            continue
        params = [sorted(identity.ids[IDENTITY_COLUMNS[c]]) for c in usable]
        deleted = con.execute(
            f'delete from "{schema}"."{table}" where {_where(usable)}', params
        ).fetchone()[0]
        if deleted:
            counts[f"{schema}.{table}"] = int(deleted)
    return counts


def compact_warehouse(path: Path) -> None:
    """Rewrite the DuckDB file with only its live data: deleted rows can otherwise stay in
    free blocks of the file until they happen to be overwritten."""
    fresh = path.with_name(path.stem + ".compacting.duckdb")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        name = con.execute("select current_database()").fetchone()[0]
        con.execute(f"ATTACH '{fresh}' AS compacted")  # our own path, not input
        con.execute(f'COPY FROM DATABASE "{name}" TO compacted')
        con.execute("DETACH compacted")
    finally:
        con.close()
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _redact_bytes(
    data: bytes, pattern: re.Pattern[str], needles: tuple[bytes, ...] = ()
) -> tuple[bytes, int]:
    """``data`` without the lines ``pattern`` finds (gzip and UTF-16 kept as they were).
    ``needles`` (lower-case UTF-8 tokens) skip, cheaply, a file that cannot match."""
    packed = data[:2] == b"\x1f\x8b"
    try:
        raw = gzip.decompress(data) if packed else data
    except (OSError, EOFError):
        return data, 0  # a truncated archive (it sits in quarantine): nothing readable to edit
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if needles and not utf16:
        lowered = raw.lower()
        if not any(n in lowered for n in needles):
            return data, 0
    encoding, errors = ("utf-16", "surrogatepass") if utf16 else ("utf-8", "surrogateescape")
    try:
        text = raw.decode(encoding, errors=errors)
    except UnicodeDecodeError:
        return data, 0
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not pattern.search(line)]
    if len(kept) == len(lines):
        return data, 0
    out = "".join(kept).encode(encoding, errors=errors)
    if packed:
        out = gzip.compress(out, mtime=0)
    return out, len(lines) - len(kept)


def _redact_files(home: DataHome, con: duckdb.DuckDBPyConnection, identity: Identity) -> list[dict]:
    pattern = identity.file_pattern()
    needles = tuple(t.lower().encode("utf-8") for t in identity.file_tokens())
    changed = []
    for area, root in (
        ("archive", home.archive),
        ("quarantine", home.quarantine),
        ("inbox", home.inbox),
    ):
        if not root.exists():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            redacted, removed = _redact_bytes(data, pattern, needles)
            if not removed:
                continue
            old_sha = hashlib.sha256(data).hexdigest()
            new_sha = hashlib.sha256(redacted).hexdigest()
            source = path.relative_to(root).parts[0]
            record = {
                "area": area,
                "source": source,
                "file": path.name,
                "file_hash": old_sha,
                "new_sha256": new_sha,
                "lines_removed": removed,
            }
            if area == "archive" and "__" in path.name:
                old_hash, name = path.name.split("__", 1)
                record["file_hash"] = old_hash  # the hash the file log knows it by
                target = path.with_name(f"{new_sha}__{name}")
                target.write_bytes(redacted)
                path.unlink()
                con.execute(
                    "update raw.file_log set archived_path = ? where source = ? and file_hash = ?",
                    [str(target), source, old_hash],
                )
                record["file"] = target.name
            else:
                tmp = path.with_name(path.name + ".redacting")
                tmp.write_bytes(redacted)
                tmp.replace(path)
            changed.append(record)
    return changed


def _redact_payloads(home: DataHome, identity: Identity) -> dict[str, str]:
    entries = read_entries(home)
    replaced = erasure_map(entries)
    refs = sorted(
        {
            resolve_payload(ref, replaced)
            for e in batch_entries(entries)
            for ref in (e.get("payloads") or {}).values()
        }
    )
    values = set(identity.values()) | {identity.email}
    pattern = identity.file_pattern()
    mapping = {}
    for ref in refs:
        path = payload_path(home, ref)
        if not path.exists():
            continue
        new_ref = None
        if ref.endswith(".parquet"):
            frame = frame_from_parquet(path)
            text = frame.select_dtypes(exclude="number")
            hit = text.apply(lambda col: col.astype(str).isin(values)).any(axis=1)
            if hit.any():
                new_ref = put_payload(
                    home, frame_to_parquet(frame[~hit].reset_index(drop=True)), "parquet"
                )
        elif ref.endswith(".json"):
            records = json.loads(path.read_bytes())
            if isinstance(records, list):
                kept = [
                    r
                    for r in records
                    if not (set(_strings(r)) & values or pattern.search(json.dumps(r)))
                ]
                if len(kept) != len(records):
                    new_ref = put_payload(home, json.dumps(kept, indent=2).encode() + b"\n", "json")
        else:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            cleaned = pattern.sub("[erased]", text)
            for v in values:
                cleaned = cleaned.replace(v, "[erased]")
            if cleaned != text:
                new_ref = put_payload(
                    home, cleaned.encode("utf-8", errors="surrogateescape"), ref.rsplit(".", 1)[1]
                )
        if new_ref is not None and new_ref != ref:
            mapping[ref] = new_ref
            path.unlink()
    return mapping


def _strings(value: object):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def forget(
    home: DataHome,
    email: str,
    pii_key: bytes,
    requested_by: str,
    reason: str = "",
    compact: bool = True,
) -> ErasureReport:
    """Erase one person's records everywhere the product keeps them, and record that it did."""
    normalised = normalise_email(email)
    key = email_key(pii_key, email)
    if normalised is None or key is None:
        raise ValueError(f"--email: {email!r} is not an email address")
    if not requested_by:
        raise ValueError("forget: requested_by must name the person asking (for the ledger)")
    report = ErasureReport(subject_digest(key))
    identity = Identity(normalised, {"email": {key}})
    if home.warehouse.exists():
        with connect(home.warehouse, read_only=True) as con:
            identity = find_identity(con, normalised, key)
    report.identifiers = {k: len(v) for k, v in sorted(identity.ids.items())}
    # Derived stores first, the warehouse (where the identifiers are found) last: a run
    # stopped half-way can simply be repeated.
    values = identity.values()
    for target in [home.graph, *list_snapshots(home.graph_snapshots)]:
        for where, n in erase_values(target, values).items():
            label = where if target == home.graph else f"{target.name}:{where}"
            report.graph[label] = n
    report.payloads = _redact_payloads(home, identity)
    if home.warehouse.exists():
        with connect(home.warehouse) as con:
            con.execute("begin transaction")
            try:
                report.files = _redact_files(home, con, identity)
                report.warehouse = _erase_warehouse(con, identity)
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            con.execute("checkpoint")
        if compact:
            compact_warehouse(home.warehouse)
    report.entry = append_entry(
        home,
        "erasure",
        {
            "subject": report.subject,
            "requested_by": requested_by,
            "reason": reason,
            "identifiers": report.identifiers,
            "warehouse": report.warehouse,
            "graph": report.graph,
            "files": report.files,
            "payloads": report.payloads,
        },
    )
    return report
