"""dbt build time: one day (incremental) against a full refresh of the whole history.

    .venv/bin/python benchmarks/bench_dbt.py [--days 730] [--events-per-day 100000]

Raw tables at the requested scale are generated straight into DuckDB with SQL (the simulator
writes real export files, far too slowly for 73 million events): GA4 sessions over seven
channels with returning browsers (so journeys have several touches), purchases, leads and
their CRM deals, offline conversions of paid-search deals, ad platform rows, contacts and
email events, with the raw contract's columns. The warehouse is then built as the Dagster
steps build it (staging + models, the data-driven attribution weights in Python, the
attribution mart): first over every day (a fresh warehouse: a full refresh), then for the
last day alone (an incremental run with the window vars).

Baseline, measured in the same run on the same file: bare DuckDB reading the raw tables
(count and sum of each table's numeric columns) and sessionising GA4 (one GROUP BY per
session): the least work any warehouse build has to do over the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

os.environ.setdefault("MARKETING_OPS_DEMO", "1")

CHANNEL_MIX = """
    case
        when mix < 30 then ['google', 'cpc']
        when mix < 45 then ['google', 'display']
        when mix < 65 then ['facebook', 'paid_social']
        when mix < 70 then ['newsletter', 'email']
        when mix < 85 then ['google', 'organic']
        when mix < 95 then ['(direct)', '(none)']
        else ['partner.example', 'referral']
    end
"""
RAW_TABLES = [
    "raw.ga4_events",
    "raw.google_ads",
    "raw.meta_ads",
    "raw.crm_deals",
    "raw.crm_contacts",
    "raw.email_events",
    "raw.offline_conversions",
    "raw.content_assets",
]


def generate_raw(db: Path, start: date, days: int, events_per_day: int) -> int:
    """Fill the raw tables; returns the number of GA4 events written."""
    from marketing_ops.signals.store import ensure_raw_schema

    sessions_per_day = round(events_per_day / 2.05)  # 2 events a session, 5% one more
    contacts = 50_000
    with duckdb.connect(
        str(db), config={"memory_limit": os.environ["MARKETING_OPS_DUCKDB_MEMORY_LIMIT"]}
    ) as con:
        ensure_raw_schema(con)
        con.execute(
            """
            create temp table bench_sessions as
            select
                i as sid,
                cast(? as date) + cast(i // ? as integer) as day,
                hash(i, 1) % 100 as mix,
                -- returning browsers: about two sessions per browser over the history
                'v' || (hash(i, 2) % (? * ? // 2)) as visitor,
                hash(i, 3) % 86000 as second_of_day,
                hash(i, 4) % 1000 as conversion_draw,
                hash(i, 5) % ? as contact
            from range(? * ?) as t(i)
            """,
            [start, sessions_per_day, sessions_per_day, days, contacts, sessions_per_day, days],
        )
        con.execute(
            f"""
            create temp table bench_touched as
            select
                *,
                cast(day as timestamp) + to_seconds(second_of_day) as started_at,
                {CHANNEL_MIX} as tags
            from bench_sessions
            """
        )
        con.execute(
            """
            insert into raw.ga4_events by name
            select
                s.day as event_date,
                s.started_at + to_seconds(e.k * 7) as event_ts,
                e.name as event_name,
                s.visitor as user_pseudo_id,
                case when e.name = 'purchase' then 'C' || s.contact end as user_id,
                s.sid as session_id,
                'https://shop.example.com/product' as page_location,
                s.tags[1] as source,
                s.tags[2] as medium,
                cast(null as varchar) as campaign_name,
                case when s.tags[2] = 'cpc' then '9000000101' end as campaign_id,
                cast(null as varchar) as content,
                case when s.tags[2] = 'cpc' then 'G' || s.sid end as gclid,
                case when e.name = 'purchase' then 20 + (hash(s.sid, 6) % 200) end as revenue,
                case when e.name = 'purchase' then 'EUR' end as currency,
                -- Every amount is in EUR, the reporting currency: ingest copies it as it is.
                case when e.name = 'purchase' then 20 + (hash(s.sid, 6) % 200) end as revenue_reporting,
                case when e.name = 'purchase' then 'T' || s.sid end as transaction_id,
                'desktop' as device_category,
                'DE' as country,
                'bench' as _file_hash,
                'ga4_' || s.day || '.jsonl' as _file_name,
                cast(s.sid % 1000000 as integer) as _line,
                now() as _loaded_at,
                s.day as partition_date
            from bench_touched as s
            inner join (
                values (0, 'session_start'), (1, 'page_view'), (2, 'purchase'), (2, 'generate_lead')
            ) as e(k, name)
                on e.k < 2
                or (e.name = 'purchase' and s.conversion_draw < 40)
                or (e.name = 'generate_lead' and s.conversion_draw between 40 and 49)
            """
        )
        con.execute(
            """
            insert into raw.crm_deals by name
            select
                'D' || sid as deal_id,
                md5('c' || contact) as contact_key,
                started_at as created_at,
                case when conversion_draw < 48 then 'closedwon' else 'closedlost' end as stage,
                500 + hash(sid, 7) % 5000 as amount,
                'EUR' as currency,
                500 + hash(sid, 7) % 5000 as amount_reporting,
                started_at + to_seconds(60) as closed_at,
                tags[1] as utm_source, tags[2] as utm_medium,
                cast(null as varchar) as utm_campaign, cast(null as varchar) as utm_content,
                case when tags[2] = 'cpc' then 'G' || sid end as gclid,
                'bench' as _file_hash, 'crm_deals_' || day || '.csv' as _file_name,
                cast(sid % 1000000 as integer) as _line, now() as _loaded_at,
                day as partition_date
            from bench_touched
            where conversion_draw between 40 and 49
            """
        )
        con.execute(
            """
            insert into raw.offline_conversions by name
            select gclid, 'closed_won_deal' as conversion_name, closed_at as conversion_ts,
                   amount as conversion_value, 'EUR' as currency,
                   amount as conversion_value_reporting,
                   'bench' as _file_hash, 'offline.csv' as _file_name, _line,
                   now() as _loaded_at, partition_date
            from raw.crm_deals
            where stage = 'closedwon' and gclid is not null
            """
        )
        con.execute(
            """
            insert into raw.crm_contacts by name
            select 'C' || i as contact_id, md5('c' || i) as contact_key, null as phone_key,
                   ['new_visitors', 'engaged_prospects', 'loyal_customers'][1 + i % 3] as segment,
                   i % 4 > 0 as email_consent, i % 3 > 0 as ads_consent, false as unsubscribed,
                   cast(? as timestamp) as created_at,
                   'bench' as _file_hash, 'crm_contacts.csv' as _file_name,
                   cast(i as integer) as _line, now() as _loaded_at, cast(? as date) as partition_date
            from range(?) as t(i)
            """,
            [start, start, contacts],
        )
        con.execute(
            """
            insert into raw.email_events by name
            select
                'e' || i || '-' || kind as event_id,
                cast(cast(? as date) + cast(i // 4000 as integer) as timestamp)
                    + to_seconds(hash(i, 8) % 80000) as event_ts,
                kind as event_type,
                md5('c' || (hash(i, 9) % ?)) as contact_key,
                'm' || i as message_id,
                'em-' || (i // 4000) as campaign_id,
                'A00' || (1 + i % 5) as content_id,
                'bench' as _file_hash, 'email.csv' as _file_name,
                cast(i % 1000000 as integer) as _line, now() as _loaded_at,
                cast(? as date) + cast(i // 4000 as integer) as partition_date
            from range(? * 4000) as t(i)
            cross join (values ('send'), ('delivered'), ('open')) as k(kind)
            where kind <> 'open' or hash(i, 10) % 5 = 0
            """,
            [start, contacts, start, days],
        )
        con.execute(
            """
            insert into raw.google_ads by name
            select d.day as date_day, c.id as campaign_id, c.name as campaign_name,
                   10000 as impressions, 400 as clicks, 600.0 as spend, 30.0 as conversions,
                   3000.0 as conversions_value, 'EUR' as currency,
                   600.0 as spend_reporting, 3000.0 as conversions_value_reporting,
                   'bench' as _file_hash, 'google_ads.csv' as _file_name, 1 as _line,
                   now() as _loaded_at, d.day as partition_date
            from (select cast(? as date) + cast(i as integer) as day from range(?) as t(i)) as d
            cross join (values ('9000000101', 'SEARCH | brand'), ('9000000201', 'DISPLAY | prospecting')) as c(id, name)
            """,
            [start, days],
        )
        con.execute(
            """
            insert into raw.meta_ads by name
            select d.day as date_day, 'act_1' as account_id, '2385000000101' as campaign_id,
                   'SOCIAL | prospecting' as campaign_name, 'as1' as adset_id, 'ad' || a as ad_id,
                   8000 as impressions, 160 as clicks, 200.0 as spend, 10.0 as conversions,
                   900.0 as conversions_value, 'EUR' as currency,
                   200.0 as spend_reporting, 900.0 as conversions_value_reporting,
                   'bench' as _file_hash, 'meta_ads.csv' as _file_name, 1 as _line,
                   now() as _loaded_at, d.day as partition_date
            from (select cast(? as date) + cast(i as integer) as day from range(?) as t(i)) as d
            cross join range(3) as ads(a)
            """,
            [start, days],
        )
        con.execute(
            """
            insert into raw.content_assets by name
            select 'A00' || i as asset_id, 1 as version, 'Asset ' || i as title, 'Body' as body,
                   'pricing' as topic, 'email' as format, 'email' as channel_fit,
                   'approved' as compliance_status, true as brand_safe, false as regulated_claim,
                   cast(? as timestamp) as created_at,
                   'bench' as _file_hash, 'content_assets.csv' as _file_name,
                   cast(i as integer) as _line, now() as _loaded_at, cast(? as date) as partition_date
            from range(1, 6) as t(i)
            """,
            [start, start],
        )
        return con.execute("select count(*) from raw.ga4_events").fetchone()[0]


def raw_tables(db: Path, cache: Path | None, start: date, days: int, events_per_day: int) -> int:
    """Raw tables into `db`: copied from `cache` when it holds them, else generated (and
    kept there when a cache is named); returns the number of GA4 events."""
    if cache is not None and cache.exists():
        progress(f"copying the generated raw tables from {cache}")
        shutil.copyfile(cache, db)
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select count(*) from raw.ga4_events").fetchone()[0]
    progress(f"generating {days} days x {events_per_day:,} events into {db}")
    events = generate_raw(db, start, days, events_per_day)
    if cache is not None:  # whole or not at all: a run killed while copying leaves no cache
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(cache.name + ".partial")
        shutil.copyfile(db, partial)
        partial.replace(cache)
    return events


def bare_scan(db: Path, day: date | None) -> float:
    """Seconds for bare DuckDB over the raw rows (of one day, or all): read every column of
    every table (a hash of each whole row), and group GA4 events into sessions."""
    where = "where partition_date = ?" if day else ""
    params = [day] if day else []
    t0 = time.perf_counter()
    config = {"memory_limit": os.environ["MARKETING_OPS_DUCKDB_MEMORY_LIMIT"]}
    with duckdb.connect(str(db), read_only=True, config=config) as con:
        for table in RAW_TABLES:  # fixed names
            con.execute(
                f"select count(*), sum(hash(t) % 1000) from {table} as t {where}", params
            ).fetchall()
        con.execute(
            f"select count(*), sum(revenue) from (select user_pseudo_id, session_id, "
            f"min(event_ts) as started_at, sum(revenue) as revenue from raw.ga4_events {where} "
            f"group by user_pseudo_id, session_id)",
            params,
        ).fetchall()
    return time.perf_counter() - t0


def dbt(db: Path, work: Path, dbt_vars: dict, *args: str) -> float:
    from marketing_ops.config import DBT_PROJECT_DIR
    from marketing_ops.defs._shared import dbt_build_args, split_window_vars

    exe = Path(sys.executable).parent / "dbt"
    # the product's command for the settings (dbt's unit tests left out), its window in the
    # environment
    settings, window = split_window_vars(dbt_vars)
    build = dbt_build_args(settings)
    command = [str(exe), *build, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
               str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path",
               str(work / "logs"), *args]  # fmt: skip
    env = {
        **os.environ,
        "MARKETING_OPS_WAREHOUSE": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **window,
    }
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    if done.returncode != 0:
        raise SystemExit(f"dbt build failed:\n{done.stdout[-4000:]}")
    return time.perf_counter() - t0


def weights(db: Path, first: date, last: date) -> float:
    """The `attribution/data_driven_weights` asset's work (the same core function), timed."""
    from marketing_ops.measurement.attribution import refresh_data_driven_weights
    from marketing_ops.measurement.settings import AttributionSettings

    training = AttributionSettings().training_days
    t0 = time.perf_counter()
    config = {"memory_limit": os.environ["MARKETING_OPS_DUCKDB_MEMORY_LIMIT"]}
    with duckdb.connect(str(db), config=config) as con:
        refresh_data_driven_weights(con, first, last, training)
    return time.perf_counter() - t0


def node_seconds(work: Path) -> dict[str, float]:
    """Seconds per dbt node (model, test, unit test) of the last dbt call, from its
    run_results.json."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".", 2)[-1]: r["execution_time"] for r in results}


def build(
    db: Path, work: Path, first: date, last: date, incremental: bool
) -> tuple[dict[str, float], dict[str, float]]:
    """The three steps of a Dagster run (staging and models are one dbt call here): seconds
    per step, and per dbt node."""
    dbt_vars = (
        {"start_date": first.isoformat(), "end_date": last.isoformat()} if incremental else {}
    )
    steps = {"dbt staging + models": dbt(db, work, dbt_vars, "--exclude", "fct_attribution_daily")}
    nodes = node_seconds(work)
    steps["attribution weights (Python)"] = weights(db, first, last)
    steps["dbt attribution mart"] = dbt(db, work, dbt_vars, "--select", "fct_attribution_daily")
    return steps, {**nodes, **node_seconds(work)}


def print_nodes(name: str, nodes: dict[str, float], top: int = 12) -> None:
    """Where a run's dbt time goes: its slowest nodes."""
    print(f"\n{name}: slowest dbt nodes of {len(nodes)} ({sum(nodes.values()):.1f} s in all)")
    for node, seconds in sorted(nodes.items(), key=lambda item: -item[1])[:top]:
        print(f"  {node:<70}{seconds:>8.2f}")


def progress(message: str) -> None:
    """Long runs (a two-year build takes many minutes) say where they are, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--events-per-day", type=int, default=100_000)
    parser.add_argument(
        "--memory-limit", default="6GB", help="DuckDB memory limit (it spills beyond it)."
    )
    parser.add_argument(
        "--raw-cache",
        type=Path,
        help="A DuckDB file of generated raw tables at this scale: copied when it exists, "
        "written on first use (generating two years takes minutes).",
    )
    args = parser.parse_args()
    os.environ["MARKETING_OPS_DUCKDB_MEMORY_LIMIT"] = args.memory_limit

    from marketing_ops.runner import ensure_dbt_manifest

    ensure_dbt_manifest()
    work = Path(tempfile.mkdtemp(prefix="mo-bench-dbt-"))
    db = work / "warehouse.duckdb"
    first = date(2024, 1, 1)
    last = first + timedelta(days=args.days - 1)

    t0 = time.perf_counter()
    events = raw_tables(db, args.raw_cache, first, args.days, args.events_per_day)
    generate_s = time.perf_counter() - t0
    size_mb = db.stat().st_size / 1e6
    progress(f"generated {events:,} events ({size_mb:,.0f} MB) in {generate_s:.0f} s")

    full, full_nodes = build(db, work, first, last, incremental=False)
    progress(f"full refresh: {full}")
    one_day, day_nodes = build(db, work, last, last, incremental=True)
    progress(f"one day: {one_day}")
    fixed = dbt(db, work, {}, "--select", "dim_channel")  # dbt's own start-up, one tiny model
    scan_all = bare_scan(db, None)
    scan_day = bare_scan(db, last)

    print(
        f"\ndbt build, {args.days} days x {args.events_per_day:,} GA4 events a day "
        f"({events:,} events, raw {size_mb:,.0f} MB, generated in {generate_s:.0f} s)"
    )
    print(f"{'run':<16}{'step':<30}{'seconds':>10}")
    for name, steps in (("full refresh", full), ("one day", one_day)):
        for step, seconds in steps.items():
            print(f"{name:<16}{step:<30}{seconds:>10.1f}")
        print(f"{name:<16}{'total':<30}{sum(steps.values()):>10.1f}")
    print(f"{'':<16}{'dbt start-up (one tiny model)':<30}{fixed:>10.1f}")
    print("\nbaseline (same run, same file): bare DuckDB scan of the raw tables + GA4 sessions")
    total_full, total_day = sum(full.values()), sum(one_day.values())
    print(f"  all days: {scan_all:.2f} s -> full refresh = {total_full / scan_all:.0f}x the scan")
    print(f"  one day:  {scan_day:.2f} s -> one day = {total_day / scan_day:.0f}x the scan")
    print(
        f"one day / full refresh = {total_day / total_full:.1%} "
        f"(a day is {1 / args.days:.2%} of the history)"
    )
    print_nodes("full refresh", full_nodes)
    print_nodes("one day", day_nodes)


if __name__ == "__main__":
    main()
