"""Build the knowledge graph from the marts: bulk loads, incremental per materialisation,
one writer at a time, and a snapshot of every graph it replaces.

A build never writes the graph readers use. It prepares a new database file beside it and
swaps it in with one atomic rename; the graph it replaces is kept (hard-linked) under
``snapshots/`` and can be put back with :func:`restore_snapshot`.

Two ways to prepare the new file, chosen per build:

* **incremental** (the default when the current graph was built with the same schema and
  embedding model): copy the current file, then change only what changed. Each table's
  content hash is kept in a manifest beside the database; node tables whose hash changed are
  diffed row by row on ``row_hash`` (removed rows deleted, changed rows updated, new rows
  bulk-copied), relationship tables whose hash changed are dropped and bulk-copied again.
  Unchanged tables, the full-text index and the embeddings of unchanged assets are kept.
* **full**: create every table in an empty database and bulk-copy every frame.

Both end in the same graph (``tests/graph`` proves it); the benchmark measures both.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import kuzu
import numpy as np
import pandas as pd

from marketing_ops.graph.engine import execute, open_database, run
from marketing_ops.graph.frames import GraphFrames, GraphInputs, graph_frames, table_hash
from marketing_ops.graph.queries import GraphReader, table_counts
from marketing_ops.graph.schema import (
    DDL,
    FTS_INDEX,
    GOVERNED_NODES,
    NODE_KEYS,
    NODE_TABLES,
    REL_ENDS,
    REL_TABLES,
    SCHEMA_VERSION,
    VECTOR_INDEX,
    table_query,
)
from marketing_ops.warehouse import combined_version

if TYPE_CHECKING:
    from marketing_ops.graph.embeddings import Embedder

__all__ = [
    "KEEP_SNAPSHOTS",
    "BuildReport",
    "build_graph",
    "find_snapshot",
    "list_snapshots",
    "read_manifest",
    "restore_snapshot",
    "writer_lock",
]

KEEP_SNAPSHOTS = 7
# Kùzu keeps a database as one file plus a write-ahead log; the manifest is ours.
_MANIFEST = ".manifest.json"
_SUFFIXES = ("", ".wal", ".shadow", ".tmp", _MANIFEST)


@dataclass
class BuildReport:
    """What a build did: rows per table read back from the graph, and rows expected from
    the marts (equal in a sound build), which tables it rewrote and how long it took."""

    counts: dict[str, int]
    expected: dict[str, int]
    path: Path
    snapshot: Path | None
    mode: str  # "full" or "incremental"
    changed_tables: list[str]
    dangling: dict[str, int]
    data_version: str
    seconds: float
    embedded: int = 0  # texts embedded by this build (the others were reused)
    versions: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- files


def _siblings(path: Path) -> list[Path]:
    """The database and the files kept beside it."""
    return [q for q in (path.with_name(path.name + s) for s in _SUFFIXES) if q.exists()]


def _remove(path: Path) -> None:
    for p in _siblings(path):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _copy_files(src: Path, dst: Path, link: bool = False) -> None:
    """Copy (or hard-link, when ``link`` and the filesystem allows) a database's files."""
    for p in _siblings(src):
        target = dst.with_name(dst.name + p.name[len(src.name) :])
        if p.is_dir():
            shutil.copytree(p, target)
            continue
        if link:
            try:
                os.link(p, target)
                continue
            except OSError:
                pass
        shutil.copy2(p, target)


def _replace(staging: Path, path: Path) -> None:
    """Swap the staged database in: each file moves with an atomic rename."""
    for s in _SUFFIXES:
        old = path.with_name(path.name + s)
        new = staging.with_name(staging.name + s)
        if new.exists():
            os.replace(new, old)
        elif old.exists():
            old.unlink()


def read_manifest(path: Path) -> dict:
    """What the build that made ``path`` recorded (empty for a graph without one)."""
    manifest = Path(path).with_name(Path(path).name + _MANIFEST)
    if not manifest.exists():
        return {}
    try:
        return json.loads(manifest.read_text())
    except ValueError:
        return {}


@contextmanager
def writer_lock(path: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold the graph's single-writer lock (a file lock beside it) for a build or restore.

    Dagster's store pool already serialises its own steps; this also covers the CLI and
    any second process, which waits up to ``timeout`` seconds and then fails with a
    message naming the lock.
    """
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another process is writing the knowledge graph (lock {lock})"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- loading


def _kuzu_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Kùzu 0.11 scans correctly: one contiguous object array per column.

    pandas 3's string dtype crashes Kùzu's scan (STACK_NOTES), and ``astype(object)`` on a
    whole frame yields strided column views, which Kùzu reads as if contiguous, mixing up
    columns (measured: a relationship load looked up a channel name as an asset id).
    """
    columns = {}
    for name in frame.columns:
        values = frame[name].astype(object)
        columns[name] = np.ascontiguousarray(values.where(values.notna(), None).to_numpy())
    return pd.DataFrame(columns, dtype=object)


def _columns(conn: kuzu.Connection, table: str) -> list[str]:
    """The table's property columns in declared order (relationships: ``from``, ``to`` first)."""
    if table not in (*NODE_TABLES, *REL_TABLES):
        raise ValueError(f"not a graph table: {table!r}")
    # Kùzu takes table names only as literals; `table` is one of the schema's constants.
    info = run(conn, f"CALL table_info('{table}') RETURN name")
    columns = list(info["name"])
    return ["from", "to", *columns] if table in REL_TABLES else columns


def _copy(conn: kuzu.Connection, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load a frame into a table, its columns put in the order the table declares."""
    if frame.empty:
        return
    if table == "GOVERNED_BY":  # one FROM/TO pair per kind of governed node
        for label, part in frame.groupby("from_table", sort=True):
            if label not in GOVERNED_NODES:
                raise ValueError(f"GOVERNED_BY: {label!r} is not a governed node table")
            _copy_frame(conn, table, part, f" (from='{label}', to='Policy')")
        return
    _copy_frame(conn, table, frame, "")


def _copy_frame(conn: kuzu.Connection, table: str, frame: pd.DataFrame, options: str) -> None:
    columns = _columns(conn, table)
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise ValueError(f"graph table {table}: frame lacks columns {missing}")
    # Kùzu 0.11 crashes (segfault, measured) scanning an object column that is null in
    # every row of a frame longer than 2048 rows: leave such columns out; they load as null.
    ends = ["from", "to"] if table in REL_TABLES else []
    loaded = [c for c in columns if c in ends or frame[c].notna().any()]
    df = _kuzu_frame(frame[loaded])  # noqa: F841 - Kùzu's COPY reads the local `df`
    properties = ", ".join(c for c in loaded if c not in ends)
    # table, column names and options come from the schema's constants, never from input
    listed = f"({properties})" if properties else ""
    execute(conn, f"COPY {table}{listed} FROM df{options}")


def _load_extensions(conn: kuzu.Connection) -> None:
    for ext in ("fts", "vector"):  # bundled with Kùzu 0.11, load offline (STACK_NOTES)
        execute(conn, f"LOAD EXTENSION {ext}")


def _indexes(conn: kuzu.Connection) -> set[str]:
    return set(run(conn, "CALL SHOW_INDEXES() RETURN index_name")["index_name"])


def _create_indexes(conn: kuzu.Connection, vectors: bool) -> None:
    existing = _indexes(conn)
    if FTS_INDEX not in existing:
        execute(conn, f"CALL CREATE_FTS_INDEX('ContentAsset', '{FTS_INDEX}', ['search_text'])")
    if vectors and VECTOR_INDEX not in existing:
        execute(
            conn,
            f"CALL CREATE_VECTOR_INDEX('ContentAsset', '{VECTOR_INDEX}', 'embedding', "
            "metric := 'cosine')",
        )


# --------------------------------------------------------------------------- embeddings


def _stored_vectors(conn: kuzu.Connection, hashes: list[str] | None = None) -> dict[str, list]:
    """Embeddings already in a graph, by text hash (so unchanged text is never re-embedded)."""
    query = "MATCH (a:ContentAsset) WHERE a.embedding IS NOT NULL"
    params: dict = {}
    if hashes is not None:
        query += " AND a.text_hash IN $hashes"
        params["hashes"] = hashes
    frame = run(conn, query + " RETURN a.text_hash AS h, a.embedding AS e", params)
    return {h: list(e) for h, e in zip(frame["h"], frame["e"], strict=True)}


def _embed(frame: pd.DataFrame, embedder: Embedder, known: dict[str, list]) -> int:
    """Fill ``frame.embedding`` from ``known`` vectors, embedding only new texts; returns how
    many texts were embedded."""
    if frame.empty:
        return 0
    firsts = frame.drop_duplicates("text_hash")
    todo = firsts[~firsts["text_hash"].isin(known)]
    if len(todo):
        vectors = embedder.encode(list(todo["search_text"]))
        for h, v in zip(todo["text_hash"], vectors, strict=True):
            known[h] = [float(x) for x in v]
    frame["embedding"] = [known[h] for h in frame["text_hash"]]
    return len(todo)


def _previous_vectors(path: Path) -> dict[str, list]:
    if not path.exists() or read_manifest(path).get("schema_version") != SCHEMA_VERSION:
        return {}
    with open_database(path, read_only=True) as conn:
        return _stored_vectors(conn)


# --------------------------------------------------------------------------- builds


def _full_build(
    staging: Path, frames: GraphFrames, embedder: Embedder | None, known: dict[str, list]
) -> int:
    embedded = 0
    with open_database(staging) as conn:
        _load_extensions(conn)
        for name in (*NODE_TABLES, *REL_TABLES):
            execute(conn, DDL[name])
        for name in (*NODE_TABLES, *REL_TABLES):
            frame = frames[name]
            if name == "ContentAsset" and embedder is not None:
                frame = frame.copy()
                embedded = _embed(frame, embedder, known)
            _copy(conn, name, frame)
        _create_indexes(conn, vectors=embedder is not None)
    return embedded


def _update_rows(conn: kuzu.Connection, table: str, rows: pd.DataFrame, columns: list[str]):
    """Set ``columns`` of existing nodes from ``rows`` (one bulk LOAD FROM ... SET)."""
    key = NODE_KEYS[table]
    unknown = set(columns) - set(_columns(conn, table))
    if unknown:
        raise ValueError(f"graph table {table} has no columns {sorted(unknown)}")
    # Columns null in every row are set to NULL in the query, not scanned (see _copy_frame).
    scanned = [c for c in columns if rows[c].notna().any()]
    names = {c: f"c{i}" for i, c in enumerate([key, *scanned])}
    upd = _kuzu_frame(rows[[key, *scanned]].rename(columns=names))  # noqa: F841 - read by Kùzu
    sets = ", ".join(
        f"n.{c} = {names[c]}" if c in names else f"n.{c} = NULL" for c in columns
    )  # declared column names only
    # table, key and column names are schema constants; values travel in the frame
    template = "LOAD FROM upd MATCH (n:{table} {{{key}: {slot}}}) SET " + sets
    execute(conn, table_query(template, table, key=key, slot=names[key]))


def _upsert_nodes(
    conn: kuzu.Connection, table: str, frame: pd.DataFrame, embedder: Embedder | None
) -> tuple[int, bool]:
    """Make a node table equal ``frame``, touching only rows whose ``row_hash`` changed:
    removed rows are deleted, new rows bulk-copied, changed rows updated in place.

    An asset whose text changed is deleted and inserted again instead: Kùzu 0.11 refuses to
    SET a vector-indexed column (also after dropping the index, and reopening such a
    database crashed), and after a SET of a full-text-indexed column every later COPY into
    the table fails with "duplicated primary key" (both measured). Deleting a node deletes
    its edges, so the caller reloads the relationships of the table when this returns True.
    Returns (texts embedded, rows re-inserted).
    """
    key = NODE_KEYS[table]
    extra = ", n.text_hash AS t" if table == "ContentAsset" else ""
    template = "MATCH (n:{table}) RETURN n.{key} AS k, n.row_hash AS h" + extra
    old = run(conn, table_query(template, table, key=key))
    old_hash = dict(zip(old["k"], old["h"], strict=True))
    keys = frame[key]
    previous = keys.map(old_hash)
    added = frame[previous.isna()].copy()
    changed = frame[previous.notna() & (previous != frame["row_hash"])].copy()
    reinserted = pd.DataFrame(columns=frame.columns)
    if table == "ContentAsset":
        old_text = dict(zip(old["k"], old["t"], strict=True))
        text_changed = changed[key].map(old_text) != changed["text_hash"]
        reinserted, changed = changed[text_changed], changed[~text_changed]
        added = pd.concat([added, reinserted]) if len(reinserted) else added
        if embedder is not None and len(added):
            known = _stored_vectors(conn, sorted(set(added["text_hash"])))
            embedded = _embed(added, embedder, known)
        else:
            embedded = 0
    else:
        embedded = 0
    removed = sorted((set(old_hash) - set(keys)) | set(reinserted[key]))
    if removed:
        template = "MATCH (n:{table}) WHERE n.{key} IN $keys DETACH DELETE n"
        execute(conn, table_query(template, table, key=key), {"keys": removed})
    _copy(conn, table, added)
    if len(changed):
        # Text (and so the indexed columns) is unchanged in these rows: never SET it.
        skip = {key, "embedding", "search_text", "text_hash"}
        _update_rows(conn, table, changed, [c for c in _columns(conn, table) if c not in skip])
    return embedded, bool(len(reinserted))


def _incremental_build(
    staging: Path,
    frames: GraphFrames,
    hashes: dict[str, str],
    before: dict[str, dict],
    embedder: Embedder | None,
) -> tuple[list[str], int]:
    changed: list[str] = []
    embedded = 0
    with open_database(staging) as conn:
        _load_extensions(conn)
        reload: set[str] = set()
        for name in NODE_TABLES:
            if before.get(name, {}).get("hash") != hashes[name]:
                changed.append(name)
                n, reinserted = _upsert_nodes(conn, name, frames[name], embedder)
                embedded += n
                if reinserted:  # their edges went with them
                    reload |= {r for r, ends in REL_ENDS.items() if name in ends or "*" in ends}
        for name in REL_TABLES:
            if before.get(name, {}).get("hash") != hashes[name] or name in reload:
                changed.append(name)
                execute(conn, f"DROP TABLE {name}")  # a schema constant
                execute(conn, DDL[name])
                _copy(conn, name, frames[name])
        _create_indexes(conn, vectors=embedder is not None)
    return changed, embedded


def _count_rows(path: Path) -> dict[str, int]:
    with GraphReader(path) as reader:
        return table_counts(reader)


def _snapshot_name(manifest: dict) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}__{manifest.get('as_of') or 'unknown'}__{manifest.get('data_version') or 'unknown'}.kuzu"


def build_graph(
    path: Path,
    inputs: GraphInputs,
    *,
    as_of: date | str | None = None,
    snapshots: Path | None = None,
    embedder: Embedder | None = None,
    incremental: bool = True,
) -> BuildReport:
    """Build the graph as of a day and swap it in; keep the graph it replaces as a snapshot.

    ``embedder`` (the optional semantic extra) fills ``ContentAsset.embedding`` and the vector
    index; embeddings of texts the current graph already holds are reused. ``incremental``
    False forces a full rebuild.
    """
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = graph_frames(inputs)
    data_version = combined_version(frames.versions)
    hashes = {name: table_hash(frame) for name, frame in frames.tables.items()}
    model = embedder.name if embedder is not None else None
    with writer_lock(path):
        before = read_manifest(path) if path.exists() else {}
        staging = path.with_name(".building-" + path.name)
        _remove(staging)
        if (
            incremental
            and before.get("schema_version") == SCHEMA_VERSION
            and before.get("embedding_model") == model
        ):
            _copy_files(path, staging)
            mode = "incremental"
            changed, embedded = _incremental_build(
                staging, frames, hashes, before.get("tables", {}), embedder
            )
        else:
            mode = "full"
            known = _previous_vectors(path) if embedder is not None else {}
            embedded = _full_build(staging, frames, embedder, known)
            changed = [*NODE_TABLES, *REL_TABLES]
        counts = _count_rows(staging)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "as_of": str(as_of) if as_of is not None else None,
            "data_version": data_version,
            "inputs": frames.versions,
            "embedding_model": model,
            "mode": mode,
            "changed_tables": changed,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": {n: {"hash": hashes[n], "rows": counts[n]} for n in hashes},
            "expected": frames.counts(),
            "dangling": frames.dangling,
        }
        staging.with_name(staging.name + _MANIFEST).write_text(json.dumps(manifest, indent=1))
        snapshot = None
        if path.exists() and snapshots is not None:
            snapshots.mkdir(parents=True, exist_ok=True)
            snapshot = snapshots / _snapshot_name(before)
            _copy_files(path, snapshot, link=True)
        _replace(staging, path)
        if snapshots is not None:
            _prune(snapshots)
    return BuildReport(
        counts=counts,
        expected=frames.counts(),
        path=path,
        snapshot=snapshot,
        mode=mode,
        changed_tables=changed,
        dangling=frames.dangling,
        data_version=data_version,
        seconds=time.perf_counter() - started,
        embedded=embedded,
        versions=frames.versions,
    )


# --------------------------------------------------------------------------- snapshots


def list_snapshots(snapshots: Path) -> list[Path]:
    """Snapshots, oldest first (names start with the time they were taken)."""
    if not Path(snapshots).exists():
        return []
    return sorted(p for p in Path(snapshots).iterdir() if p.name.endswith(".kuzu"))


def find_snapshot(snapshots: Path, spec: str) -> Path:
    """A snapshot by file name, name prefix or as-of day (the latest of that day)."""
    available = list_snapshots(snapshots)
    for p in reversed(available):
        if spec in (p.name, p.stem) or read_manifest(p).get("as_of") == spec:
            return p
    matches = [p for p in available if p.name.startswith(spec)]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.name for p in available) or "none"
    raise FileNotFoundError(f"no graph snapshot matches {spec!r} in {snapshots} (have: {names})")


def _prune(snapshots: Path) -> None:
    for old in list_snapshots(snapshots)[:-KEEP_SNAPSHOTS]:
        _remove(old)


def restore_snapshot(path: Path, snapshot: Path, snapshots: Path | None = None) -> Path | None:
    """Put a snapshot back as the current graph.

    The graph it replaces is itself kept as a snapshot when ``snapshots`` is given (so a
    restore can be undone); returns that snapshot. The restored snapshot stays listed.
    """
    path, snapshot = Path(path), Path(snapshot)
    if not snapshot.exists():
        raise FileNotFoundError(f"no graph snapshot at {snapshot}")
    with writer_lock(path):
        kept = None
        if path.exists() and snapshots is not None:
            snapshots.mkdir(parents=True, exist_ok=True)
            kept = snapshots / _snapshot_name(read_manifest(path))
            _copy_files(path, kept, link=True)
        staging = path.with_name(".restoring-" + path.name)
        _remove(staging)
        _copy_files(snapshot, staging)
        _replace(staging, path)
        if snapshots is not None:
            _prune(snapshots)
    return kept
