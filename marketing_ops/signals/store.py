"""The raw schema in DuckDB: tables, the file log, rejects, and the partition replace.

Table and column names come only from the constants of :mod:`sources`; every value travels
as a query parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from marketing_ops.signals.bulk import StagedRows, insert_staged
from marketing_ops.signals.sources import LINEAGE_COLUMNS, RAW_TABLES, SOURCES

__all__ = [
    "RAW_TABLE_NAMES",
    "REJECTS_TABLE",
    "FILE_LOG_TABLE",
    "REPLACED_TABLE",
    "ensure_raw_schema",
    "file_log_discrepancies",
    "replace_file_rows",
    "unreconciled_files",
]

RAW_TABLE_NAMES: dict[str, str] = {
    s: ("raw.ga4_events" if s == "ga4" else f"raw.{s}") for s in SOURCES
}
REJECTS_TABLE = "raw.rejects"
FILE_LOG_TABLE = "raw.file_log"
REPLACED_TABLE = "raw.replaced_rows"  # rows a newer file's rows with the same key replaced

_REJECTS_COLUMNS = (
    ("source", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("file_hash", "VARCHAR"),
    ("line", "INTEGER"),
    ("field", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("raw_value", "VARCHAR"),
    ("rejected_at", "TIMESTAMP"),
)
_FILE_LOG_COLUMNS = (
    ("file_hash", "VARCHAR"),
    ("source", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("partition_date", "DATE"),
    ("received", "INTEGER"),
    ("loaded", "INTEGER"),
    ("rejected", "INTEGER"),
    ("status", "VARCHAR"),
    ("archived_path", "VARCHAR"),
    ("loaded_at", "TIMESTAMP"),
    ("arrival", "BIGINT"),  # order of arrival over all files: the later file's row wins
    ("replaced", "INTEGER"),  # earlier rows this file's rows replaced (raw.replaced_rows)
)
_REPLACED_COLUMNS = (
    ("source", "VARCHAR"),
    ("file_hash", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("line", "INTEGER"),
    ("partition_date", "DATE"),
    ("by_file_hash", "VARCHAR"),
    ("by_file_name", "VARCHAR"),
    ("replaced_at", "TIMESTAMP"),
)


def _ddl(table: str, columns: Sequence[tuple[str, str]]) -> str:
    body = ", ".join(f"{name} {kind}" for name, kind in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({body})"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``raw`` and every raw table (contract columns + lineage) if missing, and
    add contract columns that came later (additive) to tables made before them."""
    existing = {
        (f"{schema}.{name}", column)
        for schema, name, column in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE schema_name = 'raw'"
        ).fetchall()
    }
    wanted = {
        (table, name)
        for source, table in RAW_TABLE_NAMES.items()
        for name, _ in RAW_TABLES[source] + LINEAGE_COLUMNS
    }
    wanted |= {(REJECTS_TABLE, n) for n, _ in _REJECTS_COLUMNS}
    wanted |= {(FILE_LOG_TABLE, n) for n, _ in _FILE_LOG_COLUMNS}
    wanted |= {(REPLACED_TABLE, n) for n, _ in _REPLACED_COLUMNS}
    if wanted <= existing:
        return  # the usual case: nothing to do, no DDL on every load
    # One transaction: a new data home's tables cost one commit, not one each.
    con.execute("BEGIN TRANSACTION")
    try:
        _create_raw_tables(con, existing)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _create_raw_tables(con: duckdb.DuckDBPyConnection, existing: set[tuple[str, str]]) -> None:
    tables = {t for t, _ in existing}
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source, table in RAW_TABLE_NAMES.items():
        _create_or_extend(con, table, RAW_TABLES[source] + LINEAGE_COLUMNS, tables, existing)
    _create_or_extend(con, REJECTS_TABLE, _REJECTS_COLUMNS, tables, existing)
    _create_or_extend(con, FILE_LOG_TABLE, _FILE_LOG_COLUMNS, tables, existing)
    _create_or_extend(con, REPLACED_TABLE, _REPLACED_COLUMNS, tables, existing)
    if (FILE_LOG_TABLE, "arrival") not in existing and FILE_LOG_TABLE in tables:
        # Files logged before arrivals were numbered arrived in the order they were loaded.
        con.execute(
            f"UPDATE {FILE_LOG_TABLE} SET arrival = numbered.n FROM ("
            f"SELECT rowid AS rid, row_number() OVER (ORDER BY loaded_at) AS n "
            f"FROM {FILE_LOG_TABLE}) AS numbered WHERE {FILE_LOG_TABLE}.rowid = numbered.rid"
        )


def _create_or_extend(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    tables: set[str],
    existing: set[tuple[str, str]],
) -> None:
    """Create the table, or add the columns that came later (additive changes only)."""
    if table not in tables:
        con.execute(_ddl(table, columns))
        return
    for name, kind in columns:
        if (table, name) not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    # Object columns: DuckDB infers types from Python values and the INSERT casts; pandas'
    # own string/number dtypes would turn None into NaN on the way.
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(
        {c: pd.Series(list(v), dtype=object) for c, v in zip(columns, by_column, strict=True)}
    )


def replace_file_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    drop_hashes: Sequence[str],
    days: Sequence[date],
    rows: Sequence[Sequence[Any]],
    rejects: Sequence[Sequence[Any]],
    loaded_at: datetime,
    staged: Sequence[tuple[StagedRows, str, str]] = (),
    reporting_currency: str = "EUR",
    key: Sequence[str] = (),
    key_has_day: bool = False,
) -> list[tuple[str, str]]:
    """Replace the rows of the files being (re)loaded (caller holds the transaction).

    Deletes the rows and rejects of ``drop_hashes`` (the files being reloaded) and, on
    ``days``, any row whose file is not a current (``loaded``) file; inserts the files' rows;
    then, by ``key`` (the source's natural key), lets each row replace the rows of earlier
    files with the same key (:func:`_replace_by_key`). Rows with other keys stay, whatever
    file brought them. ``rows`` are raw-table tuples followed by (_file_hash, _file_name,
    _line, partition_date); ``staged`` are bulk-validated rows in temporary tables, with
    their file's hash and name. ``key_has_day``: the key holds the partition column, so
    rows sharing a key share a day and only ``days`` are searched for them. Returns the
    (hash, name) of files now wholly superseded."""
    table = RAW_TABLE_NAMES[source]
    drop = list(drop_hashes)
    _delete_files(con, source, table, drop, days)
    _insert_rows(con, source, table, rows, loaded_at)
    for stage, file_hash, file_name in staged:
        insert_staged(
            con, source, table, stage, file_hash, file_name, loaded_at, reporting_currency
        )
    _insert_rejects(con, rejects, loaded_at)
    if not key:
        return []
    scope = list(days) if key_has_day else None
    return _replace_by_key(con, source, table, list(key), drop, loaded_at, scope)


def _delete_files(
    con: duckdb.DuckDBPyConnection, source: str, table: str, drop: list[str], days: Sequence[date]
) -> None:
    con.execute(
        f"""
        DELETE FROM {table}
        WHERE list_contains(?::VARCHAR[], _file_hash)
           OR (list_contains(?::DATE[], partition_date)
               AND _file_hash NOT IN (
                   SELECT file_hash FROM {FILE_LOG_TABLE} WHERE source = ? AND status = 'loaded'))
        """,
        [drop, list(days), source],
    )
    con.execute(f"DELETE FROM {REJECTS_TABLE} WHERE list_contains(?::VARCHAR[], file_hash)", [drop])
    # A reloaded file's replaced rows are worked out again once its rows are back.
    con.execute(
        f"DELETE FROM {REPLACED_TABLE} WHERE source = ? AND list_contains(?::VARCHAR[], file_hash)",
        [source, drop],
    )


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    rows: Sequence[Sequence[Any]],
    loaded_at: datetime,
) -> None:
    if not rows:
        return
    columns = [c for c, _ in RAW_TABLES[source]]
    names = [*columns, "_file_hash", "_file_name", "_line", "partition_date"]
    frame = _frame(names, rows)
    kinds = dict(RAW_TABLES[source] + LINEAGE_COLUMNS)
    select = ", ".join(f"CAST(incoming.{c} AS {kinds[c]})" for c in names)
    con.register("incoming", frame)
    try:
        con.execute(
            f"INSERT INTO {table} ({', '.join(names)}, _loaded_at) SELECT {select}, ? FROM incoming",
            [loaded_at],
        )
    finally:
        con.unregister("incoming")


def _insert_rejects(
    con: duckdb.DuckDBPyConnection, rejects: Sequence[Sequence[Any]], loaded_at: datetime
) -> None:
    if not rejects:
        return
    names = [c for c, _ in _REJECTS_COLUMNS[:-1]]
    con.register("incoming_rejects", _frame(names, rejects))
    try:
        con.execute(
            f"INSERT INTO {REJECTS_TABLE} SELECT source, file_name, file_hash, "
            "CAST(line AS INTEGER), field, reason, CAST(raw_value AS VARCHAR), ? "
            "FROM incoming_rejects",
            [loaded_at],
        )
    finally:
        con.unregister("incoming_rejects")


def _replace_by_key(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    key: list[str],
    incoming: list[str],
    at: datetime,
    days: list[date] | None = None,
) -> list[tuple[str, str]]:
    """Row identity: for every key the incoming files carry, the rows of the latest-arrived
    file holding that key stay and rows of earlier files go, each recorded in
    ``raw.replaced_rows`` with the file that replaced it. Rows of one file never replace each
    other (an export segmented by device has several rows per campaign and day). With
    ``days``, only rows of those days can share a key (the key holds the day): the rest of
    the table is not scanned."""
    if not incoming or not _other_files_present(con, table, incoming):
        return []
    same_key = " AND ".join(f"t.{c} IS NOT DISTINCT FROM i.{c}" for c in key)
    by_key = ", ".join(key)
    on_days = "" if days is None else "AND list_contains($days::DATE[], {t}partition_date)"
    params: dict[str, Any] = {"incoming": incoming, "source": source}
    if days is not None:
        params["days"] = days
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _replaced AS
        WITH incoming_keys AS (
            SELECT DISTINCT {by_key} FROM {table}
            WHERE list_contains($incoming::VARCHAR[], _file_hash) {on_days.format(t="")}
        ),
        candidates AS (
            SELECT t.rowid AS rid, t._file_hash, t._file_name, t._line, t.partition_date,
                   f.arrival, {", ".join(f"t.{c}" for c in key)}
            FROM {table} AS t
            JOIN {FILE_LOG_TABLE} AS f
              ON f.file_hash = t._file_hash AND f.source = $source AND f.status = 'loaded'
            WHERE EXISTS (SELECT 1 FROM incoming_keys AS i WHERE {same_key})
              {on_days.format(t="t.")}
        ),
        ranked AS (
            SELECT *, max(arrival) OVER w AS newest,
                   arg_max(_file_hash, arrival) OVER w AS by_hash,
                   arg_max(_file_name, arrival) OVER w AS by_name
            FROM candidates
            WINDOW w AS (PARTITION BY {by_key})
        )
        SELECT rid, _file_hash, _file_name, _line, partition_date, by_hash, by_name
        FROM ranked WHERE arrival < newest
        """,
        params,
    )
    try:
        return _record_replaced(con, source, table, at)
    finally:
        con.execute("DROP TABLE IF EXISTS _replaced")


def _other_files_present(con: duckdb.DuckDBPyConnection, table: str, incoming: list[str]) -> bool:
    """Whether rows of more than one file could share a key (a cheap early exit)."""
    if len(incoming) > 1:
        return True
    found = con.execute(f"SELECT 1 FROM {table} WHERE _file_hash <> ? LIMIT 1", incoming)
    return found.fetchone() is not None


def _record_replaced(
    con: duckdb.DuckDBPyConnection, source: str, table: str, at: datetime
) -> list[tuple[str, str]]:
    """Move the rows in ``_replaced`` from the raw table to ``raw.replaced_rows``; count them
    on the replacing files; mark files with no row left ``superseded``."""
    con.execute(
        f"INSERT INTO {REPLACED_TABLE} SELECT ?, _file_hash, _file_name, _line, partition_date, "
        "by_hash, by_name, ? FROM _replaced",
        [source, at],
    )
    con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM _replaced)")
    con.execute(
        f"""
        UPDATE {FILE_LOG_TABLE} AS f SET replaced = counted.n
        FROM (SELECT by_file_hash, count(*) AS n FROM {REPLACED_TABLE} WHERE source = ?
              AND by_file_hash IN (SELECT by_hash FROM _replaced) GROUP BY by_file_hash) AS counted
        WHERE f.source = ? AND f.status = 'loaded' AND f.file_hash = counted.by_file_hash
        """,
        [source, source],
    )
    return con.execute(
        f"""
        UPDATE {FILE_LOG_TABLE} SET status = 'superseded'
        WHERE source = ? AND status = 'loaded'
          AND file_hash IN (SELECT _file_hash FROM _replaced)
          AND file_hash NOT IN (SELECT DISTINCT _file_hash FROM {table})
        RETURNING file_hash, file_name
        """,
        [source],
    ).fetchall()


def _file_counts(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[Any, ...]]:
    """Per loaded or superseded file: name, hash, status, day, the logged counts (received,
    loaded, rejected) and what the tables hold (rows present, replaced, rejects)."""
    table = RAW_TABLE_NAMES[source]
    return con.execute(
        f"""
        SELECT f.file_name, f.file_hash, f.status, f.partition_date, f.received, f.loaded,
               f.rejected, coalesce(p.n, 0), coalesce(r.n, 0), coalesce(j.n, 0)
        FROM {FILE_LOG_TABLE} AS f
        LEFT JOIN (SELECT _file_hash AS h, count(*) AS n FROM {table} GROUP BY 1) AS p
          ON p.h = f.file_hash
        LEFT JOIN (SELECT file_hash AS h, count(*) AS n FROM {REPLACED_TABLE}
                   WHERE source = ? GROUP BY 1) AS r ON r.h = f.file_hash
        LEFT JOIN (SELECT file_hash AS h, count(*) AS n FROM {REJECTS_TABLE}
                   WHERE source = ? GROUP BY 1) AS j ON j.h = f.file_hash
        WHERE f.source = ? AND f.status IN ('loaded', 'superseded')
        """,
        [source, source, source],
    ).fetchall()


def _reconciles(counts: tuple[Any, ...]) -> bool:
    received, loaded, rejected, present, replaced, rejects = counts[4:]
    return received == loaded + rejected and loaded == present + replaced and rejected == rejects


def unreconciled_files(
    con: duckdb.DuckDBPyConnection, source: str
) -> list[tuple[str, str, str, date | None]]:
    """(hash, name, status, day) of the files whose log entry does not reconcile."""
    return [(c[1], c[0], c[2], c[3]) for c in _file_counts(con, source) if not _reconciles(c)]


def file_log_discrepancies(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """What does not reconcile between ``raw.file_log`` and the raw tables (empty: all does).

    For every loaded or superseded file: received = loaded + rejected; its loaded rows are in
    the raw table or recorded in ``raw.replaced_rows``; its rejects are in ``raw.rejects``.
    And every raw row belongs to a file the log lists as loaded. A home loaded before rows had
    an identity (whole files superseded, no replaced rows recorded) is rebuilt from its
    archive by ``marketing-ops signals reconcile``."""
    table = RAW_TABLE_NAMES[source]
    problems = [
        f"{name}: received {received}, loaded {loaded}, rejected {rejected}; "
        f"{present} rows present, {replaced} replaced, {rejects} rejects recorded"
        for name, _, _, _, received, loaded, rejected, present, replaced, rejects in (
            c for c in _file_counts(con, source) if not _reconciles(c)
        )
    ]
    orphans = con.execute(
        f"SELECT count(*) FROM {table} WHERE _file_hash NOT IN (SELECT file_hash FROM "
        f"{FILE_LOG_TABLE} WHERE source = ? AND status = 'loaded')",
        [source],
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} rows of {table} belong to no loaded file")
    if problems:
        problems.append(f"{RECONCILE_HINT} --source {source}")
    return problems


RECONCILE_HINT = (
    "to rebuild these days from the archive under row identity, run: marketing-ops signals "
    "reconcile"
)
