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
    "ensure_raw_schema",
    "replace_file_rows",
]

RAW_TABLE_NAMES: dict[str, str] = {
    s: ("raw.ga4_events" if s == "ga4" else f"raw.{s}") for s in SOURCES
}
REJECTS_TABLE = "raw.rejects"
FILE_LOG_TABLE = "raw.file_log"

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
    if wanted <= existing:
        return  # the usual case: nothing to do, no DDL on every load
    tables = {t for t, _ in existing}
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source, table in RAW_TABLE_NAMES.items():
        if table not in tables:
            con.execute(_ddl(table, RAW_TABLES[source] + LINEAGE_COLUMNS))
            continue
        for name, kind in RAW_TABLES[source]:
            if (table, name) not in existing:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    con.execute(_ddl(REJECTS_TABLE, _REJECTS_COLUMNS))
    con.execute(_ddl(FILE_LOG_TABLE, _FILE_LOG_COLUMNS))


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
) -> None:
    """Replace the days' rows of ``source`` (caller holds the transaction).

    Deletes the rows of ``drop_hashes`` (files being reloaded or superseded) and, on ``days``,
    any row whose file is not a current (``loaded``) file; keeps rows other current files
    hold on those days (a contacts file can carry a changed contact created on another day).
    ``rows`` are raw-table tuples followed by (_file_hash, _file_name, _line, partition_date);
    ``staged`` are bulk-validated rows in temporary tables, with their file's hash and name.
    """
    table = RAW_TABLE_NAMES[source]
    drop = list(drop_hashes)
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
    columns = [c for c, _ in RAW_TABLES[source]]
    if rows:
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
    for stage, file_hash, file_name in staged:
        insert_staged(
            con, source, table, stage, file_hash, file_name, loaded_at, reporting_currency
        )
    if rejects:
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
