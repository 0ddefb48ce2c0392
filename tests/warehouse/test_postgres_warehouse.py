"""The same dbt project on PostgreSQL: the world's raw tables copied into a throwaway server,
`dbt build --target postgres` (models, data tests, unit tests) in the order Dagster runs it,
and every mart equal to what the DuckDB build of the same world holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extras import execute_values

from marketing_ops.config import DBT_PROJECT_DIR
from marketing_ops.measurement.attribution import WEIGHT_COLUMNS, data_driven_weights

from .world import ATTRIBUTION_MART, DAYS, MARTS, WORLD_VARS, dbt_run

DATABASE = "warehouse"
# PostgreSQL's names for the DuckDB types of the raw tables (marketing_ops.signals.RAW_TABLES).
PG_TYPES = {
    "VARCHAR": "varchar",
    "DOUBLE": "double precision",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}
# The marts world.MARTS leaves out, with the order they are compared in.
MORE_MARTS = {
    "marts.fct_audience_email_daily": "date_day, audience_id",
    "marts.fct_campaign_content": "campaign_id, asset_id",
    "marts.dim_content_asset_version": "asset_id, version",
}
# Rounding allowed between the two engines' floating-point sums.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class PostgresWarehouse:
    """The world built on PostgreSQL: how to connect, and the dbt run results of each step."""

    dsn: dict[str, object]
    run_results: list[dict]


@pytest.fixture(scope="module")
def postgres_warehouse(
    postgres_url: str, built_warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresWarehouse]:
    """The raw tables of the shared DuckDB world, copied into a fresh database of the test
    session's PostgreSQL server, then built there by dbt as Dagster builds it."""
    server = urlsplit(postgres_url)
    admin = {"host": server.hostname, "port": server.port, "user": server.username}
    create_database(admin, server.path.lstrip("/"), DATABASE)
    dsn = {**admin, "dbname": DATABASE}
    try:
        with duckdb.connect(str(built_warehouse.db), read_only=True) as source:
            with transaction(dsn) as cur:
                copy_raw_tables(source, cur)
        work = tmp_path_factory.mktemp("postgres_warehouse")
        yield PostgresWarehouse(dsn, build_on_postgres(dsn, built_warehouse.db, work))
    finally:
        drop_database(admin, server.path.lstrip("/"), DATABASE)


def create_database(admin: dict[str, object], maintenance_db: str, name: str) -> None:
    """A database that sorts strings byte-wise, as DuckDB does (profiles.yml says why)."""
    with _autocommit(admin, maintenance_db) as cur:
        cur.execute(
            sql.SQL(
                "create database {} template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'"
            ).format(sql.Identifier(name))
        )


def drop_database(admin: dict[str, object], maintenance_db: str, name: str) -> None:
    with _autocommit(admin, maintenance_db) as cur:
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))


class _autocommit:
    """A cursor outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""

    def __init__(self, admin: dict[str, object], dbname: str) -> None:
        self.connection = psycopg2.connect(**admin, dbname=dbname)
        self.connection.autocommit = True

    def __enter__(self):
        return self.connection.cursor()

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


@contextmanager
def transaction(dsn: dict[str, object]) -> Iterator:
    """A cursor in one transaction (committed when the block ends without error), and the
    connection closed afterwards (psycopg2's own `with` leaves it open)."""
    connection = psycopg2.connect(**dsn)
    try:
        with connection, connection.cursor() as cur:
            yield cur
    finally:
        connection.close()


def copy_raw_tables(source: duckdb.DuckDBPyConnection, cur) -> None:
    """Every table of DuckDB's `raw` schema, created with the same columns in PostgreSQL's
    `raw` schema and filled by parameterised inserts."""
    cur.execute("create schema if not exists raw")
    for table in _tables(source, "raw"):
        columns = source.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        name = sql.Identifier("raw", table)
        definitions = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[kind]))
            for c, kind in columns
        )
        cur.execute(sql.SQL("create table {} ({})").format(name, definitions))
        rows = source.execute(sql.SQL("select * from {}").format(name).as_string(cur)).fetchall()
        names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        execute_values(cur, sql.SQL("insert into {} ({}) values %s").format(name, names), rows)


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [schema],
        ).fetchall()
    ]


def build_on_postgres(dsn: dict[str, object], db: Path, work: Path) -> list[dict]:
    """world.dbt_build on the `postgres` target: everything but the attribution mart, the
    data-driven weights (marketing_ops.measurement.attribution, from PostgreSQL's path
    counts), then the attribution mart. Returns each step's run results."""
    target_env = {
        "MARKETING_OPS_PG_HOST": str(dsn["host"]),
        "MARKETING_OPS_PG_PORT": str(dsn["port"]),
        "MARKETING_OPS_PG_USER": str(dsn["user"]),
        "MARKETING_OPS_PG_DATABASE": str(dsn["dbname"]),
    }
    steps = (["--exclude", ATTRIBUTION_MART], ["--select", ATTRIBUTION_MART])
    results = []
    for step, selection in enumerate(steps):
        if step == 1:
            write_weights(dsn)
        dbt_run(db, work, "build", WORLD_VARS, "--target", "postgres", *selection,
                target_env=target_env)  # fmt: skip
        results.append(json.loads((work / "target" / "run_results.json").read_text()))
    return results


def write_weights(dsn: dict[str, object]) -> None:
    """What the `attribution/data_driven_weights` asset does, on PostgreSQL, for every day."""
    counts = read_relation(dsn, "intermediate.int_journeys__path_counts", "date_day, path")
    weights = data_driven_weights(counts, DAYS, training_days=90)
    with transaction(dsn) as cur:
        cur.execute("delete from attribution.data_driven_weights")
        execute_values(
            cur,
            sql.SQL("insert into attribution.data_driven_weights ({}) values %s").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in WEIGHT_COLUMNS)
            ),
            [tuple(_plain(v) for v in row) for row in weights[WEIGHT_COLUMNS].itertuples(False)],
        )


def _plain(value: object) -> object:
    """numpy scalars as the Python values psycopg2 adapts."""
    return value.item() if isinstance(value, np.generic) else value


def read_relation(dsn: dict[str, object], relation: str, order_by: str) -> pd.DataFrame:
    """A relation of the PostgreSQL warehouse as a frame (names from the tests' constants)."""
    schema, table = relation.split(".")
    columns = sql.SQL(", ").join(sql.Identifier(c.strip()) for c in order_by.split(","))
    query = sql.SQL("select * from {} order by {}").format(sql.Identifier(schema, table), columns)
    with transaction(dsn) as cur:
        cur.execute(query)
        names = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names, dtype=object)


def read_duckdb(db: Path, relation: str, order_by: str) -> pd.DataFrame:
    schema, table = relation.split(".")
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f'select * from "{schema}"."{table}" order by {order_by}').df()


def assert_same_rows(relation: str, duck: pd.DataFrame, pg: pd.DataFrame) -> None:
    """Same columns, same rows in the same order; numbers within TOLERANCE, dates and times
    equal, everything else exactly equal (nulls included)."""
    assert list(pg.columns) == list(duck.columns), relation
    assert len(pg) == len(duck), f"{relation}: {len(pg)} rows on PostgreSQL, {len(duck)} on DuckDB"
    for column in duck.columns:
        expected, actual = duck[column], pg[column]
        where = f"{relation}.{column}"
        if pd.api.types.is_bool_dtype(expected):
            assert actual.tolist() == expected.tolist(), where
        elif pd.api.types.is_numeric_dtype(expected):
            ours = pd.to_numeric(actual.map(_number)).to_numpy(dtype=float)
            np.testing.assert_allclose(ours, expected.to_numpy(dtype=float), rtol=TOLERANCE,
                                       atol=TOLERANCE, equal_nan=True, err_msg=where)  # fmt: skip
        elif pd.api.types.is_datetime64_any_dtype(expected):
            assert [_moment(v) for v in actual] == [_moment(v) for v in expected], where
        else:
            assert [_text(v) for v in actual] == [_text(v) for v in expected], where


def _number(value: object) -> object:
    return np.nan if value is None else float(value)  # Decimal (numeric) included


def _moment(value: object) -> pd.Timestamp | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return pd.Timestamp(value)


def _text(value: object) -> object:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def test_dbt_build_passes_on_postgres(postgres_warehouse: PostgresWarehouse) -> None:
    """Every model, seed, data test and unit test of both steps ran on PostgreSQL and passed
    (dbt_run already fails on an error; this also rules out warnings and skips)."""
    first, second = postgres_warehouse.run_results
    for results in (first, second):
        statuses = {r["unique_id"]: r["status"] for r in results["results"]}
        assert set(statuses.values()) <= {"success", "pass"}, statuses
    kinds = [r["unique_id"].split(".")[0] for r in first["results"]]
    assert kinds.count("unit_test") >= 14 and kinds.count("test") >= 150, kinds
    assert {"model", "seed"} <= set(kinds)
    assert [r["unique_id"] for r in second["results"] if r["unique_id"].startswith("model.")] == [
        f"model.marketing_ops.{ATTRIBUTION_MART}"
    ]


def test_every_mart_equals_duckdb(postgres_warehouse: PostgresWarehouse, built_warehouse) -> None:
    """Each mart holds the same rows on PostgreSQL as on DuckDB, numbers within rounding."""
    marts = {**MARTS, **MORE_MARTS}
    with duckdb.connect(str(built_warehouse.db), read_only=True) as con:
        assert {f"marts.{t}" for t in _tables(con, "marts")} == set(marts)
    for relation, order_by in marts.items():
        assert_same_rows(
            relation,
            read_duckdb(built_warehouse.db, relation, order_by),
            read_relation(postgres_warehouse.dsn, relation, order_by),
        )


def test_path_counts_and_weights_equal_duckdb(
    postgres_warehouse: PostgresWarehouse, built_warehouse
) -> None:
    """What the data-driven attribution learns from, and the weights it wrote back, are the
    same on both warehouses (so the attribution mart's equality is not a coincidence)."""
    for relation, order_by in {
        "intermediate.int_journeys__path_counts": "date_day, path, channel_set",
        "attribution.data_driven_weights": "date_day, channel_set, channel",
    }.items():
        duck = read_duckdb(built_warehouse.db, relation, order_by)
        assert not duck.empty, relation
        assert_same_rows(relation, duck, read_relation(postgres_warehouse.dsn, relation, order_by))


# DuckDB-only SQL that must stay behind macros/cross_database.sql (dispatch) or be written
# with dbt's cross-database macros, so a model added later still builds on PostgreSQL.
DUCKDB_ONLY = {
    r"\bmin_by\s*\(": "arg_min()",
    r"\bmax_by\s*\(": "arg_max()",
    r"\bfirst\s*\(": "first_in_order()",
    r"\bregexp_\w+\s*\(": "full_match()",
    r"\bepoch\s*\(": "seconds_between()",
    r"\bdate_diff\s*\(": "dbt.datediff()",
    r"\bto_days\s*\(": "days_interval()",
    r"\brange\s*\(": "dbt.generate_series()",
    r"\bhour\s*\(": "extract(hour from ...)",
    r"\binterval\s+\d": "interval '1 day'",
    r"\bas\s+double\s*\)": "type_double()",
    r"\bqualify\b": "a ranked subquery",
    r"::": "cast(... as ...)",
}
COMMENTS = re.compile(r"\{#.*?#\}|--[^\n]*", re.DOTALL)


def test_models_use_no_duckdb_only_sql() -> None:
    """Models, macros and singular tests reach DuckDB-only functions only through the dispatch
    macros of macros/cross_database.sql."""
    found = []
    sources = ("models", "macros", "tests")
    for path in sorted(p for folder in sources for p in (DBT_PROJECT_DIR / folder).rglob("*.sql")):
        if path.name == "cross_database.sql":
            continue
        text = COMMENTS.sub("", path.read_text())
        found += [
            f"{path.relative_to(DBT_PROJECT_DIR)}: {pattern} -> use {instead}"
            for pattern, instead in DUCKDB_ONLY.items()
            if re.search(pattern, text, re.IGNORECASE)
        ]
    assert found == []
