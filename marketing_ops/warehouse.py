"""The Python side of the DuckDB warehouse: open it, read marts, write the agent's tables.

SQL that models data lives in dbt. Python only loads raw data (``marketing_ops.signals``),
reads marts and writes what the agent produces (forecasts, decisions, executions,
outcomes) into the ``agent`` schema. Table names come from the fixed constants below, never
from input; values always travel as parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

__all__ = [
    "AGENT_TABLES",
    "connect",
    "read_agent_email_events",
    "read_table",
    "read_tagged_conversions",
    "replace_partition",
    "table_exists",
    "frame_version",
    "combined_version",
    "HANDOFF_TABLES",
    "replace_handoff",
]

# The agent's tables and the column that scopes a replace (one as-of day, one batch...).
AGENT_TABLES: dict[str, str] = {
    "agent.forecasts": "as_of",
    "agent.backtests": "as_of",
    "agent.response_curves": "as_of",
    # the media mix model behind the curves (issue 14): its channel table per fit
    "agent.mmm_channel_summary": "as_of",
    "agent.decisions": "as_of",
    # One batch per as-of day: re-deciding a day replaces its batch and its executions.
    "agent.executions": "as_of",
    "agent.decision_outcomes": "as_of",
    "agent.forecast_error": "as_of",
    # closing the loop (issue 8): rollbacks are scoped by the batch they undo
    "agent.rollbacks": "batch_id",
    "agent.decision_kpis": "as_of",
    "agent.drift": "as_of",
    "agent.policy_evaluations": "as_of",
}

_READABLE = {
    "marts.fct_channel_kpis_daily",
    "marts.fct_geo_kpis_daily",
    "marts.fct_ad_spend_daily",
    "marts.fct_conversions",
    "marts.fct_email_engagement",
    "marts.fct_audience_send_hours",
    "marts.fct_audience_email_daily",
    "marts.fct_audience_kpis_daily",
    "marts.dim_channel",
    "marts.dim_campaign",
    "marts.dim_audience",
    "marts.dim_content_asset",
    "marts.dim_content_asset_version",
    "marts.fct_campaign_content",
    "raw.google_ads",
    "raw.meta_ads",
    "raw.file_log",
    "raw.rejects",
    "raw.email_events",
    *AGENT_TABLES,
    # Warehouse (issue 4): journeys and attribution, the staging views and audit tables the
    # quality gates validate, and what Python hands to dbt.
    "marts.fct_touchpoints",
    "marts.fct_journeys",
    "marts.fct_attribution_daily",
    "staging.stg_ga4__events",
    "staging.stg_crm__deals",
    "staging.stg_email__events",
    "staging.stg_offline__conversions",
    "intermediate.int_conversions__deduplicated",
    "intermediate.int_channel_kpis__daily",
    "intermediate.int_journeys__path_counts",
    "config.channel_grouping_overrides",
    "attribution.data_driven_weights",
}

# Tables Python fills for dbt to read: columns (the contract; dbt's on-run-start hook
# `create_handoff_tables` creates the same) and the date column a write replaces a window
# of (None: the whole table is replaced).
HANDOFF_TABLES: dict[str, tuple[tuple[tuple[str, str], ...], str | None]] = {
    "config.channel_grouping_overrides": (
        (
            ("position", "INTEGER"),
            ("source_pattern", "VARCHAR"),
            ("medium_pattern", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("description", "VARCHAR"),
        ),
        None,
    ),
    "attribution.data_driven_weights": (
        (
            ("date_day", "DATE"),
            ("channel_set", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("markov", "DOUBLE"),
            ("shapley", "DOUBLE"),
            ("training_journeys", "BIGINT"),
        ),
        "date_day",
    ),
}


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse and always close it: DuckDB allows one writer per file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()  # fetch to the end: an unfinished result blocks the next register()
    row = rows[0] if rows else None
    return bool(row and row[0])


def read_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    date_column: str | None = None,
    end: date | None = None,
    start: date | None = None,
) -> pd.DataFrame:
    """Read a mart or agent table, optionally bounded by a date column (inclusive)."""
    if table not in _READABLE:
        raise ValueError(f"not a readable warehouse table: {table!r}")
    if not table_exists(con, table):
        return pd.DataFrame()
    sql = f"select * from {table}"  # table is one of the fixed names above
    params: list[object] = []
    if date_column:
        if date_column not in {"date_day", "as_of", "partition_date"}:
            raise ValueError(f"not a date column: {date_column!r}")
        clauses = []
        if start is not None:
            clauses.append(f"{date_column} >= ?")
            params.append(start)
        if end is not None:
            clauses.append(f"{date_column} <= ?")
            params.append(end)
        if clauses:
            sql += " where " + " and ".join(clauses)
        sql += f" order by {date_column}"
    return con.execute(sql, params).df()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows}


def read_tagged_conversions(con: duckdb.DuckDBPyConnection, end: date) -> pd.DataFrame:
    """``marts.fct_conversions`` up to ``end``, only the rows tagged with a decision id: what
    measures a decision. The untagged rest (nearly the whole table: 1.7M rows, ~3 s on two
    years at 100k events a day) is not read."""
    table = "marts.fct_conversions"
    if not table_exists(con, table) or "decision_id" not in _columns(con, table):
        return pd.DataFrame()
    return con.execute(
        f"select * from {table} where decision_id is not null and date_day <= ? order by date_day",
        [end],
    ).df()


def read_agent_email_events(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``raw.email_events`` of the agent's own sends (campaign id = a decision id in
    ``agent.decisions``), without reading the rest (6.4M rows, ~7.5 s on two years)."""
    if not table_exists(con, "raw.email_events") or not table_exists(con, "agent.decisions"):
        return pd.DataFrame(columns=["campaign_id", "event_type"])
    return con.execute(
        "select * from raw.email_events "
        "where campaign_id in (select decision_id from agent.decisions)"
    ).df()


def replace_partition(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, scope_value: object
) -> int:
    """Replace the rows of one scope (as-of day or batch) with ``frame``, atomically.

    Re-running an asset for the same scope therefore never duplicates rows. The table is
    created from the frame's schema the first time.
    """
    scope_column = AGENT_TABLES[table]
    schema = table.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    if frame.empty and not table_exists(con, table):
        # an empty frame has no column types: a table created from it gets NULL-typed
        # columns that refuse every later row; wait for the first real rows instead
        return 0
    con.register("_incoming", frame)
    try:
        con.execute("begin transaction")
        if table_exists(con, table):
            _add_missing_columns(con, table)
            con.execute(f"delete from {table} where {scope_column} = ?", [scope_value])
            con.execute(f"insert into {table} by name select * from _incoming")
        else:
            con.execute(f"create table {table} as select * from _incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_incoming")
    return len(frame)


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A newer writer may carry columns an older table lacks: add them (nullable, earlier rows
    read NULL) so a data home built by an earlier version keeps working."""
    schema, name = table.split(".")
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    for column, kind, *_ in con.execute("describe select * from _incoming").fetchall():
        if column not in have:
            quoted = column.replace('"', '""')  # a frame's column name, quoted as an identifier
            con.execute(f'alter table {table} add column "{quoted}" {kind}')


def replace_handoff(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    start: date | None = None,
    end: date | None = None,
) -> int:
    """Replace a hand-off table's rows (those of days ``start``..``end`` when it is scoped by a
    date column, else all of them) with ``frame``, atomically; the table is created first when
    dbt has not yet run."""
    columns, scope_column = HANDOFF_TABLES[table]
    names = [name for name, _ in columns]
    schema = table.split(".")[0]
    body = ", ".join(f"{name} {kind}" for name, kind in columns)
    con.execute(f"create schema if not exists {schema}")  # fixed names above
    con.execute(f"create table if not exists {table} ({body})")
    con.register("_incoming", frame[names])
    try:
        con.execute("begin transaction")
        if scope_column is None:
            con.execute(f"delete from {table}")
        else:
            if start is None or end is None:
                raise ValueError(f"{table} is replaced per window: give start and end")
            con.execute(f"delete from {table} where {scope_column} between ? and ?", [start, end])
        con.execute(f"insert into {table} by name select * from _incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_incoming")
    return len(frame)


def frame_version(frame: pd.DataFrame) -> str:
    """A short content hash of a frame: the data version recorded with what was built from it."""
    if frame.empty:
        return "empty"
    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    return hashlib.sha256(hashed.values.tobytes()).hexdigest()[:16]


def combined_version(parts: dict[str, str]) -> str:
    """One version for something built from several inputs, stable in the inputs' names."""
    text = "\n".join(f"{k}={parts[k]}" for k in sorted(parts))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
