"""Bulk validation inside DuckDB: the rules of :mod:`rows`, for large, well-formed files.

Row-by-row Python validates some 10-40k rows a second; one day of GA4 events can be millions.
When DuckDB can read a file cleanly (one record per physical line, UTF-8, gzipped or not), the
column rules of ``sources.yaml`` are compiled to SQL over the file and evaluated a column at a
time into a temporary table.

The SQL accepts a row only when it is *plainly* valid: every value in a simple shape whose
meaning is not in doubt (``12.5``, ``2026-01-15``, an ISO timestamp, a listed currency...) and
every sense check passed. Any other row goes back by line number to the Python validator, which
loads it or rejects it with its reason. So :mod:`rows` stays the one definition of what a row
means; the SQL only takes the easy cases faster, and ``tests/signals/test_bulk.py`` checks
that both ways give the same rows on the broken-input corpus and the simulator's files. A file
DuckDB cannot read cleanly (a broken line, blank lines, a stray encoding) makes
:func:`stage_file` return None, and the whole file is parsed in Python.

Identifiers in the SQL are the raw tables' own column names, positional names (``c0``, ``c1``
...) or JSON field names from ``sources.yaml`` (validated as identifiers); every value is a
query parameter.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from marketing_ops.signals.readers import CsvLayout
from marketing_ops.signals.rows import RowBuilder
from marketing_ops.signals.sources import (
    RAW_TABLES,
    REPORTING_AMOUNTS,
    ColumnRule,
    scale_divisor,
)

__all__ = ["BULK_TYPES", "StagedRows", "bulk_eligible", "stage_file", "insert_staged"]

# Column types the SQL can decide; a source with any other (keyed PII) is parsed in Python.
BULK_TYPES = frozenset(
    {
        "text",
        "int",
        "float",
        "date",
        "timestamp",
        "timestamp_micros",
        "local_timestamp",
        "bool",
        "currency",
        "json_actions",
    }
)
# The word lists of rows.py, as SQL literals (code constants, not data).
_NULLS = ("", "--", "null", "none", "nan", "n/a")
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_INT_LIMIT = "9223372036854775808.0"  # 2**63: Python refuses whole numbers beyond BIGINT
_TIMESTAMP_SHAPE = (
    r"\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?"
)
# Google Ads UI summary rows; the word boundary spelled out (RE2's \b is ASCII-only).
_TOTAL_SHAPE = r"^[ \t]*(?i:total)([^\p{L}\p{N}_]|$)"
_MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31 23:59:59.999999
_SQL_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_micros": "TIMESTAMP",
    "local_timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
    "currency": "VARCHAR",
    "json_actions": "DOUBLE",
}
_counter = itertools.count()


@dataclass
class StagedRows:
    """A file's plainly valid rows, staged in a temporary table of the connection.

    ``leftover_lines`` are the lines the SQL did not accept: the Python validator decides them.
    """

    table: str
    count: int
    days: set[date]
    first_line: int  # line of the staged table's first row (rowid ``base``)
    leftover_lines: list[int] = field(default_factory=list)
    fx_table: str | None = None  # rates to join when some rows are in another currency
    columns: tuple[str, ...] = ()  # raw-table columns the stage holds
    # rowid of the first row: 0 for a table made outside a transaction, 2**55 for one made
    # inside (DuckDB numbers transaction-local rows from there). Line = rowid - base + first.
    base: int = 0


def bulk_eligible(builder: RowBuilder) -> bool:
    """Whether every column of the source can be decided in SQL."""
    spec = builder.spec
    if spec.partition is None and builder.file_day is None:
        return False
    for rule in spec.columns.values():
        if rule.type not in BULK_TYPES:
            return False
        if any(v.scale != 1.0 and scale_divisor(v.scale) is None for v in rule.headers):
            return False
    return True


class _Params:
    """Named query parameters: SQL text gets ``$p<n>``, the value goes in the dict."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_ACTIONS_SCHEMA = '[{"action_type":"VARCHAR","value":"VARCHAR"}]'


def _helper(rule: ColumnRule, x: str, typed: bool, builder: RowBuilder, p: _Params) -> str | None:
    """An intermediate value computed once per cell when the conversion uses it repeatedly.
    ``typed``: DuckDB's reader already parsed the cell as DOUBLE.

    For an actions list: each entry's number when its type counts as a purchase (NULL when
    it does not count; NaN when the entry has no type or a counted one no finite number)."""
    if rule.type in ("int", "float", "timestamp_micros"):
        return x if typed else f"TRY_CAST({x} AS DOUBLE)"  # accepts what float() does, or less
    if rule.type == "json_actions":
        types = p(list(builder.config.meta_purchase_actions))
        return (
            f"list_transform(TRY(from_json({x}, '{_ACTIONS_SCHEMA}')), lambda a: "
            "CASE WHEN a.action_type IS NULL THEN 'nan'::DOUBLE "
            f"WHEN list_contains({types}, a.action_type) "
            "THEN coalesce(TRY_CAST(a.value AS DOUBLE), 'nan'::DOUBLE) END)"
        )
    return None


def _converted(
    rule: ColumnRule, x: str, builder: RowBuilder, p: _Params, scale: float, h: str
) -> str:
    """SQL for the column's typed value, or NULL when the cell is not plainly valid.

    ``x`` names the cell (VARCHAR), ``h`` its :func:`_helper` value. Guards are chosen to be cheap and to accept only what
    Python reads the same way: surrounding whitespace, an ``@``, a decimal comma or an
    unusual spelling all make the value not plain (Python decides it)."""
    kind = rule.type
    if kind == "text":
        lookup = {k.strip().lower(): v for k, v in rule.values.items()}
        # First and last characters printable ASCII (so strip() keeps them), no email in it.
        # Text starting or ending in other characters is correct in Python, just slower.
        plain = (
            f"ord({x}) BETWEEN 33 AND 126 AND ord({x}[-1]) BETWEEN 33 AND 126 "
            f"AND NOT contains({x}, '@')"
        )
        value = x
        if lookup or rule.compact:
            # Python lower-cases with Unicode rules: only ASCII is sure to agree.
            plain += f" AND strlen({x}) = length({x})"
            fallback = f"lower(replace({x}, ' ', ''))" if rule.compact else x
            if lookup:
                keys, values = p(list(lookup)), p(list(lookup.values()))
                at = f"list_position({keys}, lower({x}))"
                value = f"CASE WHEN {at} > 0 THEN {values}[{at}] ELSE {fallback} END"
            else:
                value = fallback
        return f"CASE WHEN {plain} THEN {value} END"
    number = h
    if kind == "int":
        return (
            f"CASE WHEN {number} = trunc({number}) AND abs({number}) < {_INT_LIMIT} "
            f"THEN CAST({number} AS BIGINT) END"
        )
    if kind == "float":
        divisor = scale_divisor(scale)
        value = f"({number} / {p(float(divisor))})" if divisor else number
        return f"CASE WHEN isfinite({number}) THEN {value} END"
    if kind == "date":
        return (
            f"CASE WHEN {x} LIKE '____-__-__' THEN TRY_CAST({x} AS DATE) "
            f"WHEN strlen({x}) = 8 AND regexp_full_match({x}, '[0-9]{{8}}') "
            f"THEN CAST(TRY_STRPTIME({x}, '%Y%m%d') AS DATE) END"
        )
    if kind in ("timestamp", "local_timestamp"):
        out = None if builder.reporting.is_utc else builder.reporting.time_zone
        zone_in = builder.time_zone.key if builder.time_zone is not None else None
        has_offset = f"(right({x}, 1) = 'Z' OR substr({x}, -6, 1) IN ('+', '-'))"
        aware = f"timezone({p(out or 'UTC')}, TRY_CAST({x} AS TIMESTAMPTZ))"
        naive = f"TRY_CAST({x} AS TIMESTAMP)"
        if zone_in is not None or out is not None:
            naive = f"timezone({p(out or 'UTC')}, timezone({p(zone_in or 'UTC')}, {naive}))"
        return (
            f"CASE WHEN NOT regexp_full_match({x}, {p(_TIMESTAMP_SHAPE)}) THEN NULL "
            f"WHEN {has_offset} THEN {aware} ELSE {naive} END"
        )
    if kind == "timestamp_micros":
        # Python: int(float(value)) microseconds after the epoch.
        micros = f"CAST(trunc({number}) AS BIGINT)"
        fits = f"{number} >= 0 AND {number} <= {_MAX_MICROS}"
        ts = f"make_timestamp(CASE WHEN {fits} THEN {micros} ELSE 0 END)"
        if not builder.reporting.is_utc:
            ts = f"timezone({p(builder.reporting.time_zone)}, timezone('UTC', {ts}))"
        return f"CASE WHEN {fits} THEN {ts} END"
    if kind == "bool":
        return f"CASE WHEN {_among(x, _TRUE)} THEN TRUE WHEN {_among(x, _FALSE)} THEN FALSE END"
    if kind == "currency":
        codes = p(sorted(builder.config.currencies))
        return (
            f"CASE WHEN strlen({x}) = length({x}) AND list_contains({codes}, upper({x})) "
            f"THEN upper({x}) END"
        )
    if kind == "json_actions":
        # h: the counted entries' numbers (see _helper); plain when none is NaN or infinite.
        finite = f"list_transform({h}, lambda v: isfinite(v))"
        well_formed = f"{h} IS NOT NULL AND NOT list_contains({finite}, false)"
        return f"CASE WHEN {well_formed} THEN coalesce(list_sum({h}), 0.0) END"
    raise AssertionError(f"not a bulk type: {kind}")


def _among(x: str, words: tuple[str, ...]) -> str:
    """SQL: ``lower(x)`` is one of ``words`` (lower-case ASCII code constants), tested only
    when ``x`` is short enough to be one (a longer value is not: a value is only ever
    accepted by fewer rows here, never more, and Python decides the rest).

    In lists of three: DuckDB plans a longer IN list as a join over every row, which cost
    more than all of a column's other checks (``benchmarks/bench_ingest.py``)."""
    lists = [words[i : i + 3] for i in range(0, len(words), 3)]
    tests = " OR ".join(
        f"lower({x}) IN ({', '.join(chr(39) + w + chr(39) for w in part)})" for part in lists
    )
    longest = max(len(w) for w in words)
    return f"(CASE WHEN strlen({x}) <= {longest} THEN {tests} ELSE false END)"


def _is_null(x: str) -> str:
    """Python's null words (``""``, ``--``, ``null``, ``none``, ``nan``, ``n/a``), untrimmed:
    a padded one is not plain and goes to Python, which trims."""
    return f"({x} IS NULL OR {_among(x, _NULLS)})"


def _json_input(paths: list[str], filters: dict[str, str]) -> str:
    """SQL for one column of a JSON event: the first path whose parent object is present.
    ``filters`` names, per GA4 parameter key, the column holding its matching entries."""
    expr = "CAST(NULL AS VARCHAR)"
    for path in reversed(paths):
        head, _, leaf = path.partition(".")
        if not leaf:
            expr = _q(head)
        elif head == "event_params":
            found = filters[leaf]
            value = f"{found}[-1].value"
            taken = (
                f"coalesce({value}.string_value, {value}.int_value, "
                f"{value}.double_value, {value}.float_value)"
            )
            expr = f"(CASE WHEN len({found}) > 0 THEN {taken} ELSE {expr} END)"
        else:
            expr = f"(CASE WHEN {_q(head)} IS NOT NULL THEN {_q(head)}.{_q(leaf)} ELSE {expr} END)"
    return expr


def _json_columns(builder: RowBuilder) -> dict[str, str] | None:
    """read_json's schema from the configured paths: leaves as VARCHAR, GA4 params as a list."""
    heads: dict[str, set[str]] = {}
    bare: set[str] = set()
    for rule in builder.spec.columns.values():
        for path in rule.paths:
            head, _, leaf = path.partition(".")
            heads.setdefault(head, set())
            if leaf:
                heads[head].add(leaf)
            else:
                bare.add(head)
    columns: dict[str, str] = {}
    for head, leaves in heads.items():
        if head in bare and leaves:
            return None  # a field used both as a value and as an object: Python's job
        if head == "event_params":
            columns[head] = (
                "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value VARCHAR, "
                "double_value VARCHAR, float_value VARCHAR))[]"
            )
        elif leaves:
            fields = ", ".join(f"{_q(leaf)} VARCHAR" for leaf in sorted(leaves))
            columns[head] = f"STRUCT({fields})"
        else:
            columns[head] = "VARCHAR"
    return columns


def stage_file(
    con: duckdb.DuckDBPyConnection,
    builder: RowBuilder,
    *,
    path: Path,
    gzipped: bool,
    layout: CsvLayout | None,
    physical_lines: int,
) -> StagedRows | None:
    """:func:`_stage` with numbers parsed by DuckDB's CSV reader (fast), else as text (a
    cell such as ``--`` or ``1,234.5`` makes the typed read fail); None when neither works."""
    if layout is not None:
        typed = {
            c
            for c in layout.columns
            if c in builder.spec.columns
            and builder.spec.columns[c].type in ("int", "float", "timestamp_micros")
        }
        if typed:
            staged = _stage(con, builder, path, gzipped, layout, physical_lines, typed)
            if staged is not None:
                return staged
    return _stage(con, builder, path, gzipped, layout, physical_lines, set())


def _stage(
    con: duckdb.DuckDBPyConnection,
    builder: RowBuilder,
    path: Path,
    gzipped: bool,
    layout: CsvLayout | None,
    physical_lines: int,
    typed: set[str],
) -> StagedRows | None:
    """Validate a file in SQL into a temporary table; None when DuckDB cannot read it cleanly.

    ``layout`` is the CSV layout (None for JSON lines); ``physical_lines`` the file's line
    count, which must match the records DuckDB read (else lines and records do not map one to
    one: blank lines, multi-line cells) for the SQL to be used.

    The query is layered so that each expression is computed once per row: the file, the
    cells of each column, their typed values and null flags, the raw-table values, the
    verdict (``_plain``) and the day."""
    p = _Params()
    spec = builder.spec
    compression = "gzip" if gzipped else "none"
    order = [c for c, _ in RAW_TABLES[builder.source] if c in spec.columns]
    scales = {c: 1.0 for c in order}
    if layout is not None:
        columns = {f"c{i}": "VARCHAR" for i in range(layout.width)}
        for column in typed:
            columns[f"c{layout.columns[column][0]}"] = "DOUBLE"
        reader = (
            f"read_csv({p(str(path))}, delim={p(layout.delimiter)}, quote='\"', escape='\"', "
            f"header=false, skip={p(layout.header_line)}, columns={p(columns)}, "
            f"auto_detect=false, compression={p(compression)}, strict_mode=true, "
            "null_padding=false)"
        )
        cells = {
            column: f"c{index}" for column, (index, _) in layout.columns.items() if column in order
        }
        scales.update({c: s for c, (_, s) in layout.columns.items() if c in scales})
        blank = " AND ".join(f"c{i} IS NULL" for i in range(layout.width))
        # Summary rows ("Total: ...") are skipped like Python does; anything that merely
        # mentions a total is left to Python.
        first = "c0" if columns["c0"] == "VARCHAR" else "CAST(c0 AS VARCHAR)"
        maybe_total = f"coalesce({first} ILIKE '%total%', false)"
        total = f"coalesce(regexp_matches({first}, {p(_TOTAL_SHAPE)}), false)"
        skip = f"(({blank}) OR ({maybe_total} AND {total}))"
        doubt = maybe_total
        source_layer = f"SELECT *, {skip} AS n_skip, {doubt} AS n_doubt FROM {reader}"
        first_line = layout.header_line + 1
        expected = physical_lines - layout.header_line
    else:
        json_columns = _json_columns(builder)
        if json_columns is None:
            return None
        reader = (
            f"read_json({p(str(path))}, format='newline_delimited', columns={p(json_columns)}, "
            f"compression={p(compression)})"
        )
        keys = sorted(
            {
                path.partition(".")[2]
                for rule in spec.columns.values()
                for path in rule.paths
                if path.startswith("event_params.")
            }
        )
        filters = {key: f"f{i}" for i, key in enumerate(keys)}
        found = "".join(
            f", list_filter(event_params, lambda e: e.key = {p(key)}) AS {name}"
            for key, name in filters.items()
        )
        source_layer = f"SELECT *{found}, false AS n_skip, false AS n_doubt FROM {reader}"
        cells = {c: _json_input(spec.columns[c].paths, filters) for c in order}
        first_line = 1
        expected = physical_lines

    inputs = ", ".join(
        f"{cells.get(c, 'CAST(NULL AS VARCHAR)')} AS x{i}" for i, c in enumerate(order)
    )
    layer, values, oks, helpers = [], [], [], []
    for i, column in enumerate(order):
        rule = spec.columns[column]
        sql_type = _SQL_TYPES[rule.type]
        helper = _helper(rule, f"x{i}", column in typed, builder, p)
        if helper is not None:
            helpers.append(f"{helper} AS h{i}")
        converted = _converted(rule, f"x{i}", builder, p, scales[column], f"h{i}")
        null = f"x{i} IS NULL" if column in typed else _is_null(f"x{i}")
        layer.append(f"{null} AS n{i}")
        layer.append(f"CAST(({converted}) AS {sql_type}) AS v{i}")
        usable, default = builder.default_value(column)
        if rule.empty_cell == "reject" and column in cells:
            null_value, null_ok = f"CAST(NULL AS {sql_type})", "false"  # Python rejects it
        elif usable:
            null_value, null_ok = f"CAST({p(default)} AS {sql_type})", "true"
        else:
            null_value = f"CAST(NULL AS {sql_type})"
            null_ok = "false" if (rule.required or rule.default is not None) else "true"
        values.append(f"CASE WHEN n{i} THEN {null_value} ELSE v{i} END AS {_q(column)}")
        checks = [f"v{i} IS NOT NULL"]
        if rule.min is not None and rule.type in ("int", "float", "json_actions"):
            checks.append(f"v{i} >= {p(float(rule.min))}")
        if rule.type in ("date", "timestamp", "local_timestamp", "timestamp_micros"):
            checks.append(f"CAST(v{i} AS DATE) BETWEEN DATE '0001-01-01' AND {p(builder.latest)}")
        oks.append(f"(CASE WHEN n{i} THEN {null_ok} ELSE {' AND '.join(checks)} END)")
    for smaller, larger in spec.checks:
        a, b = _q(smaller), _q(larger)
        oks.append(f"({a} IS NULL OR {b} IS NULL OR {a} <= {b})")
    if spec.partition is not None:
        day = f"CAST({_q(spec.partition)} AS DATE)"
        oks.append(f"({day} IS NOT NULL AND {day} >= {p(builder.oldest)})")
    else:
        day = f"CAST({p(builder.file_day)} AS DATE)"
    flags = ", ".join(f"n{i}, v{i}" for i in range(len(order)))
    named = ", ".join(_q(c) for c in order)

    table = f"_bulk_{next(_counter)}"
    sql = f"""
        CREATE TEMP TABLE {table} AS
        SELECT {named}, n_skip, _plain, _day FROM (
          SELECT *, ({" AND ".join(oks)}) AND NOT n_doubt AS _plain, {day} AS _day FROM (
            SELECT {flags}, n_skip, n_doubt, {", ".join(values)} FROM (
              SELECT {", ".join(layer)}, n_skip, n_doubt FROM (
                SELECT *{"".join(", " + h for h in helpers)} FROM (
                  SELECT {inputs}, n_skip, n_doubt FROM ({source_layer})
                )
              )
            )
          )
        )
    """
    try:
        con.execute(sql, p.values)
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        return None
    read, base, last = con.execute(
        f"SELECT count(*), coalesce(min(rowid), 0), coalesce(max(rowid), -1) FROM {table}"
    ).fetchone()
    if read != expected or last - base + 1 != read:
        # Records and lines do not map one to one (or rowids are not consecutive, so a row's
        # line cannot be told): Python reads the file.
        con.execute(f"DROP TABLE {table}")
        return None
    fx_table = _check_rates(con, builder, table)
    count, days = 0, set()
    for day_value, n in con.execute(
        f"SELECT _day, count(*) FROM {table} WHERE _plain AND NOT n_skip GROUP BY 1"
    ).fetchall():
        days.add(day_value)
        count += n
    leftovers = [
        int(r) - base + first_line
        for (r,) in con.execute(
            f"SELECT rowid FROM {table} WHERE NOT _plain AND NOT n_skip ORDER BY 1"
        ).fetchall()
    ]
    return StagedRows(table, count, days, first_line, leftovers, fx_table, tuple(order), base)


def _check_rates(con: duckdb.DuckDBPyConnection, builder: RowBuilder, table: str) -> str | None:
    """Rows in a foreign currency without a usable rate stop being plain (Python rejects them
    with the reason). Returns the rates table the insert joins, or None when every plain row
    is in the reporting currency (or has none) and no join is needed."""
    if not REPORTING_AMOUNTS.get(builder.source):
        return None
    rates = builder.reporting.rates
    foreign = con.execute(
        f"SELECT count(*) FROM {table} WHERE _plain AND currency IS NOT NULL AND currency <> ?",
        [rates.reporting],
    ).fetchone()[0]
    if not foreign:
        return None
    fx = f"{table}_fx"
    con.execute(f"CREATE TEMP TABLE {fx} (currency VARCHAR, day DATE, divisor DOUBLE)")
    if rates.table():
        con.executemany(f"INSERT INTO {fx} VALUES (?, ?, ?)", rates.table())
    con.execute(
        f"""
        UPDATE {table} SET _plain = false WHERE rowid IN (
            SELECT s.rowid FROM {table} s
            ASOF LEFT JOIN {fx} f ON s.currency = f.currency AND s._day >= f.day
            WHERE s._plain AND s.currency IS NOT NULL AND s.currency <> ?
              AND (f.divisor IS NULL OR s._day - f.day > ?))
        """,
        [rates.reporting, rates.max_age_days],
    )
    return fx


def insert_staged(
    con: duckdb.DuckDBPyConnection,
    source: str,
    raw_table: str,
    staged: StagedRows,
    file_hash: str,
    file_name: str,
    loaded_at: Any,
    reporting_currency: str,
) -> None:
    """Append the staged plain rows to the raw table, with their reporting-currency amounts
    and lineage; drop the stage."""
    amounts = REPORTING_AMOUNTS.get(source, {})
    plain_columns = [c for c, _ in RAW_TABLES[source] if c not in amounts.values()]
    present = set(staged.columns)
    select = [f"s.{_q(c)}" if c in present else "NULL" for c in plain_columns]
    same = "(s.currency IS NULL OR s.currency = $reporting)"
    for amount in amounts:
        if amount not in present:
            select.append("NULL")
        elif staged.fx_table:
            select.append(
                f"CASE WHEN {same} THEN s.{_q(amount)} ELSE s.{_q(amount)} / f.divisor END"
            )
        else:
            select.append(f"CASE WHEN {same} THEN s.{_q(amount)} END")
    join = (
        f"ASOF LEFT JOIN {staged.fx_table} f ON s.currency = f.currency AND s._day >= f.day"
        if staged.fx_table
        else ""
    )
    names = [*plain_columns, *amounts.values()]
    params = {
        "hash": file_hash,
        "name": file_name,
        "first": staged.first_line,
        "base": staged.base,
        "at": loaded_at,
    }
    if amounts:
        params["reporting"] = reporting_currency
    con.execute(
        f"""
        INSERT INTO {raw_table} ({", ".join(names)}, _file_hash, _file_name, _line,
                                 partition_date, _loaded_at)
        SELECT {", ".join(select)}, $hash, $name,
               CAST(s.rowid - $base + $first AS INTEGER), s._day, $at
        FROM {staged.table} s {join}
        WHERE s._plain AND NOT s.n_skip
        """,
        params,
    )
    drop_staged(con, staged)


def drop_staged(con: duckdb.DuckDBPyConnection, staged: StagedRows) -> None:
    con.execute(f"DROP TABLE IF EXISTS {staged.table}")
    if staged.fx_table:
        con.execute(f"DROP TABLE IF EXISTS {staged.fx_table}")
