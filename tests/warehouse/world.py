"""A small raw world for the warehouse tests, and real `dbt build` runs over it.

Three days (5-7 January 2026) chosen so each rule of the contract shows up once:

- GA4: a paid-search purchase T1 sent twice (same transaction id: one conversion), an email
  purchase T2 from a logged-in contact caused by decision D-20260106-001, a paid-social visit
  without purchase, and a session tagged only by a GCLID (G2).
- CRM: DEAL1 closed won from a paid-search click (GCLID G1), DEAL2 closed lost, DEAL3 closed
  won by email with decision D-20260107-002 in UTM Content.
- Offline conversions: G1 (the same conversion as DEAL1: counted once) and G2 (no deal: a
  paid-search conversion of its own).
- Geos: search's day-1 spend comes as a geographic report (Bavaria and Berlin), T1 was bought
  in Bavaria, T2 in Berlin (GA4 region).
- Spend: Google search and display every day, Meta (two ads of one campaign) on the first
  two days only, so paid social must be zero-filled on the third.
- Journeys (built with a one-day attribution lookback, WORLD_VARS): u1 saw a display ad two
  hours before buying T1 (a two-touch journey); u2 visited from organic search the evening
  before logging in and buying T2 (stitched: as of the purchase day u2 is contact C2); u5
  clicked a Meta ad and never came back (a journey without conversion, ended on day 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from marketing_ops.config import DBT_PROJECT_DIR
from marketing_ops.defs._shared import SKIP_UNIT_TESTS, split_window_vars
from marketing_ops.measurement.attribution import data_driven_weights
from marketing_ops.signals import RAW_TABLE_NAMES, RAW_TABLES, ensure_raw_schema
from marketing_ops.warehouse import read_table, replace_handoff

DAY1, DAY2, DAY3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)
DAYS = (DAY1, DAY2, DAY3)

# The raw tables are the signals package's own (marketing_ops.signals: RAW_TABLES and
# ensure_raw_schema), so the world cannot drift from what the loader writes.
SOURCE_OF_TABLE = {name.split(".")[1]: source for source, name in RAW_TABLE_NAMES.items()}
REPORTING_SUFFIX = "_reporting"
# The world's reporting currency (the dbt var's default) and the units of it per unit of each
# currency the world's rows are in: what ingest writes into the `_reporting` columns.
REPORTING_CURRENCY = "EUR"
WORLD_RATES = {"EUR": 1.0, "USD": 0.8}
# What the loader adds to every row (docs/contracts.md, "Raw tables").
LINEAGE_NAMES = ("_file_hash", "_file_name", "_line", "_loaded_at", "partition_date")


def file_columns(table: str) -> list[str]:
    """The columns of raw ``table`` a signal file fills, in the signals package's order: a
    world row gives values for the first of them (the ``_reporting`` amounts are computed
    on load, see :func:`raw_record`)."""
    columns = RAW_TABLES[SOURCE_OF_TABLE[table]]
    return [name for name, _ in columns if not name.endswith(REPORTING_SUFFIX)]


def raw_record(table: str, row: Sequence[object]) -> dict[str, object]:
    """A world row as the loader stores it: its file columns plus each ``<amount>_reporting``
    column converted at WORLD_RATES (a row without currency is in the reporting currency)."""
    names = file_columns(table)
    if len(row) > len(names):
        raise ValueError(f"{table}: {len(row)} values for {len(names)} columns {names}")
    record: dict[str, object] = dict(zip(names, row, strict=False))
    for name, _ in RAW_TABLES[SOURCE_OF_TABLE[table]]:
        if name.endswith(REPORTING_SUFFIX):
            amount = record.get(name.removesuffix(REPORTING_SUFFIX))
            rate = WORLD_RATES[str(record.get("currency") or REPORTING_CURRENCY)]
            record[name] = None if amount is None else float(amount) * rate  # type: ignore[arg-type]
    return record


def insert_raw(
    con: duckdb.DuckDBPyConnection, table: str, row: Sequence[object], lineage: Sequence[object]
) -> None:
    """Insert one world row into raw ``table`` with its lineage columns
    (_file_hash, _file_name, _line, _loaded_at, partition_date)."""
    record = {**raw_record(table, row), **dict(zip(LINEAGE_NAMES, lineage, strict=True))}
    names = ", ".join(record)  # column names from the signals package, never from data
    placeholders = ", ".join("?" for _ in record)
    con.execute(
        f"insert into {RAW_TABLE_NAMES[SOURCE_OF_TABLE[table]]} ({names}) values ({placeholders})",
        list(record.values()),
    )


K1, K2 = "a1" * 32, "b2" * 32  # keyed contact emails (hex), never raw addresses
SEARCH, DISPLAY, META = "9000000101", "9000000202", "2385000000101"


def _ts(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm)


def _ga4(
    day: date,
    hh: int,
    mm: int,
    name: str,
    pseudo: str,
    user_id: str | None,
    session: int,
    source: str | None,
    medium: str | None,
    campaign_id: str | None,
    gclid: str | None,
    revenue: float | None = None,
    txn: str | None = None,
    currency: str = REPORTING_CURRENCY,
    region: str | None = None,
) -> tuple:
    """One GA4 event row in raw column order (page, device and country fixed)."""
    return (day, _ts(day, hh, mm), name, pseudo, user_id, session, "https://shop.example/",
            source, medium, None, campaign_id, None, gclid, revenue,
            currency if revenue is not None else None, txn, "desktop", "DE", region)  # fmt: skip


# (table, partition day, row in file_columns(table) order).
RAW_ROWS: list[tuple[str, date, tuple]] = [
    # GA4: T1 is sent twice (a duplicate hit), it is one purchase.
    ("ga4_events", DAY1, _ga4(DAY1, 10, 0, "session_start", "u1", None, 1, "google", "cpc", SEARCH, "G1")),
    # Its first hit places it in Bavaria (fct_geo_kpis_daily), whatever the second says.
    ("ga4_events", DAY1, _ga4(DAY1, 10, 5, "purchase", "u1", None, 1, "google", "cpc", SEARCH, "G1", 100.0, "T1", region="Bavaria")),
    ("ga4_events", DAY1, _ga4(DAY1, 10, 6, "purchase", "u1", None, 1, "google", "cpc", SEARCH, "G1", 100.0, "T1", region="Berlin")),
    ("ga4_events", DAY2, _ga4(DAY2, 12, 0, "session_start", "u2", "C2", 2, "newsletter", "email", "D-20260106-001", None)),
    ("ga4_events", DAY2, _ga4(DAY2, 12, 9, "purchase", "u2", "C2", 2, "newsletter", "email", "D-20260106-001", None, 50.0, "T2", region="Berlin")),
    ("ga4_events", DAY2, _ga4(DAY2, 15, 0, "session_start", "u4", None, 4, None, None, SEARCH, "G2")),
    ("ga4_events", DAY3, _ga4(DAY3, 9, 0, "page_view", "u3", None, 3, "facebook", "paid_social", META, None)),
    # Earlier visits that make journeys: u1 by display before T1, u2 anonymously by organic
    # search before logging in for T2, u5 from a Meta ad without ever converting.
    ("ga4_events", DAY1, _ga4(DAY1, 8, 0, "session_start", "u1", None, 11, "google", "display", DISPLAY, None)),
    ("ga4_events", DAY1, _ga4(DAY1, 20, 0, "session_start", "u2", None, 21, "google", "organic", None, None)),
    ("ga4_events", DAY1, _ga4(DAY1, 9, 0, "session_start", "u5", None, 5, "facebook", "paid_social", META, None)),
    # Google Ads: search and display every day; search's day 1 as a geographic report (its
    # two regions add up to the other days' campaign row).
    ("google_ads", DAY1, (DAY1, SEARCH, "SEARCH | brand", 600, 30, 12.0, 2.0, 200.0, "EUR", "Bavaria")),
    ("google_ads", DAY1, (DAY1, SEARCH, "SEARCH | brand", 400, 20, 8.0, 1.0, 100.0, "EUR", "Berlin")),
    *[("google_ads", d, (d, SEARCH, "SEARCH | brand", 1000, 50, 20.0, 3.0, 300.0, "EUR")) for d in (DAY2, DAY3)],
    *[("google_ads", d, (d, DISPLAY, "DISPLAY | prospecting", 5000, 20, 10.0, 1.0, 40.0, "EUR")) for d in DAYS],
    # Meta: two ads of one campaign, the first two days only.
    *[("meta_ads", d, (d, "act_1", META, "Prospecting", "as1", ad, 800, 16, spend, 2.0, 90.0, "EUR"))
      for d in (DAY1, DAY2) for ad, spend in (("ad1", 7.0), ("ad2", 8.0))],
    # CRM deals.
    ("crm_deals", DAY2, ("DEAL1", K1, _ts(DAY1, 11), "closedwon", 1000.0, "EUR", _ts(DAY2, 16), "google", "cpc", SEARCH, None, "G1")),
    ("crm_deals", DAY2, ("DEAL2", K1, _ts(DAY1, 12), "closedlost", 0.0, "EUR", _ts(DAY2, 17), "google", "cpc", SEARCH, None, None)),
    ("crm_deals", DAY3, ("DEAL3", K2, _ts(DAY2, 13), "closedwon", 500.0, "EUR", _ts(DAY3, 11), "newsletter", "email", "em-20260105-engaged_prospects", "D-20260107-002", None)),
    # Contacts: C2 moved segment on day 2; the latest row wins.
    ("crm_contacts", DAY1, ("C1", K1, None, "loyal_customers", True, True, False, _ts(DAY1, 8))),
    ("crm_contacts", DAY1, ("C2", K2, None, "new_visitors", True, False, False, _ts(DAY1, 8))),
    ("crm_contacts", DAY2, ("C2", K2, None, "engaged_prospects", True, False, False, _ts(DAY1, 8))),
    # Offline conversions: G1 is DEAL1 again; G2 has no deal.
    ("offline_conversions", DAY2, ("G1", "closed_deal", _ts(DAY2, 16), 1000.0, "EUR")),
    ("offline_conversions", DAY3, ("G2", "closed_deal", _ts(DAY3, 14), 700.0, "EUR")),
    # Email events.
    ("email_events", DAY1, ("e1", _ts(DAY1, 9), "send", K2, "m1", "em-20260105-engaged_prospects", "A001")),
    ("email_events", DAY1, ("e2", _ts(DAY1, 9, 30), "open", K2, "m1", "em-20260105-engaged_prospects", "A001")),
    ("email_events", DAY1, ("e3", _ts(DAY1, 9, 31), "open", K2, "m1", "em-20260105-engaged_prospects", "A001")),
    ("email_events", DAY1, ("e4", _ts(DAY1, 9, 32), "click", K2, "m1", "em-20260105-engaged_prospects", "A001")),
    ("email_events", DAY2, ("e5", _ts(DAY2, 8), "send", K1, "m2", "D-20260106-001", "A002")),
    ("email_events", DAY2, ("e6", _ts(DAY2, 19), "open", K1, "m2", "D-20260106-001", "A002")),
    ("email_events", DAY2, ("e7", _ts(DAY2, 8), "send", K2, "m3", "D-20260106-001", "A002")),
    # Content catalogue snapshots: A001 v2 is pending compliance, A002 is not brand safe.
    *[("content_assets", d, ("A001", 1, "Spring offer", "Save now", "offer", "email", "email|paid_social", "approved", True, False, _ts(DAY1, 0))) for d in DAYS],
    *[("content_assets", d, ("A001", 2, "Spring offer v2", "Save more", "offer", "email", "email|paid_social", "pending", True, False, _ts(DAY2, 0))) for d in (DAY2, DAY3)],
    *[("content_assets", d, ("A002", 1, "Loyalty", "Thanks", "loyalty", "email", "email", "approved", False, False, _ts(DAY1, 0))) for d in DAYS],
    *[("content_assets", d, ("A003", 1, "Guide", "How to", "education", "article", "email|display", "approved", True, False, _ts(DAY1, 0))) for d in DAYS],
]  # fmt: skip


def load_raw(
    db: Path, days: Iterable[date] = DAYS, rows: Sequence[tuple[str, date, tuple]] = RAW_ROWS
) -> None:
    """Insert the rows of ``days`` the way the loader does: file columns, reporting amounts
    and lineage, into the signals package's raw tables."""
    wanted = set(days)
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        for line, (table, day, row) in enumerate(rows, start=2):
            if day in wanted:
                lineage = (f"hash-{table}-{day}", f"{table}_{day}.csv", line, _ts(day, 23), day)
                insert_raw(con, table, row, lineage)


# The world's journeys span hours, so a one-day lookback shows both kinds of journey.
WORLD_VARS = {"attribution_lookback_days": 1}
ATTRIBUTION_MART = "fct_attribution_daily"


def dbt_build(
    db: Path,
    work: Path,
    dbt_vars: dict[str, str] | None = None,
    *extra: str,
    unit_tests: bool = False,
) -> subprocess.CompletedProcess:
    """A real `dbt build` of the project against ``db`` in the order Dagster runs it:
    everything but the attribution mart, then the data-driven weights (Python), then the
    attribution mart. With ``extra`` arguments (a selection), one plain `dbt build`. Like
    the product's runs (defs._shared.dbt_build_args) it leaves dbt's unit tests out, unless
    ``unit_tests`` (the shared build runs them). Raises with dbt's log on failure; returns the
    invocations' output together."""
    dbt_vars = {**WORLD_VARS, **(dbt_vars or {})}
    skip = () if unit_tests else SKIP_UNIT_TESTS
    if extra:
        return dbt_run(db, work, "build", dbt_vars, *extra, *skip)
    done = dbt_run(db, work, "build", dbt_vars, "--exclude", ATTRIBUTION_MART, *skip)
    write_weights(db, dbt_vars.get("start_date"), dbt_vars.get("end_date"))
    mart = dbt_run(db, work, "build", dbt_vars, "--select", ATTRIBUTION_MART, *skip)
    return subprocess.CompletedProcess(
        done.args, 0, done.stdout + mart.stdout, done.stderr + mart.stderr
    )


def write_weights(db: Path, start: str | None, end: str | None) -> None:
    """What the `attribution/data_driven_weights` asset does, for the window's days."""
    first = date.fromisoformat(start) if start else min(DAYS)
    last = date.fromisoformat(end) if end else max(DAYS)
    days = [d for d in DAYS if first <= d <= last]
    with duckdb.connect(str(db)) as con:
        counts = read_table(con, "intermediate.int_journeys__path_counts")
        weights = data_driven_weights(counts, days, training_days=90)
        replace_handoff(con, "attribution.data_driven_weights", weights, first, last)


def dbt_run(
    db: Path,
    work: Path,
    command: str,
    dbt_vars: dict[str, object],
    *extra: str,
    target_env: dict[str, str] | None = None,
    window_in_vars: bool = False,
) -> subprocess.CompletedProcess:
    """One dbt command against the DuckDB file ``db``, or against the profile target that
    ``extra`` names (``--target postgres``) with its connection in ``target_env``.

    A window in ``dbt_vars`` (``start_date`` / ``end_date``) reaches dbt as the product's
    runs pass it, in the environment (defs._shared.split_window_vars), so that the commands of
    one ``work`` folder share one parse whatever their windows; ``window_in_vars`` passes it
    as vars instead (what a person typing `dbt build --vars` does)."""
    if not window_in_vars:
        dbt_vars, window = split_window_vars(dbt_vars)
        target_env = {**window, **(target_env or {})}
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"), *extra]  # fmt: skip
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    env = {
        **os.environ,
        "MARKETING_OPS_WAREHOUSE": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(target_env or {}),
    }
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=work)
    if done.returncode != 0:
        raise AssertionError(
            f"dbt {command} failed ({done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
        )
    return done


def read_mart(db: Path, table: str, order_by: str) -> pd.DataFrame:
    """A mart as a frame, in a stable order (table and order come from the tests' constants)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from {table} order by {order_by}").df()


MARTS: dict[str, str] = {
    "marts.fct_ad_spend_daily": "date_day, platform, campaign_id, ad_id",
    "marts.fct_conversions": "conversion_id",
    "marts.fct_channel_kpis_daily": "date_day, channel",
    "marts.fct_geo_kpis_daily": "date_day, geo, channel",
    "marts.fct_email_engagement": "audience_id, asset_id",
    "marts.fct_audience_send_hours": "audience_id, hour_of_day",
    "marts.fct_audience_kpis_daily": "date_day, audience_id",
    "marts.fct_touchpoints": "journey_id, touch_position",
    "marts.fct_journeys": "journey_id",
    "marts.fct_attribution_daily": "date_day, channel",
    "marts.dim_channel": "channel",
    "marts.dim_campaign": "campaign_id",
    "marts.dim_audience": "audience_id",
    "marts.dim_content_asset": "asset_id",
}


def snapshot(db: Path) -> dict[str, pd.DataFrame]:
    return {table: read_mart(db, table, order) for table, order in MARTS.items()}
