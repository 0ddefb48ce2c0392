"""One new day end to end with warm state: ingest -> dbt -> graph -> forecasts -> decisions.

    .venv/bin/python benchmarks/bench_day.py [--history 30 365 730] [--events-per-day 100000]
        [--cache /tmp/mo-bench-day]

For each history length H, a data home is warmed the way it would be after H days of
operation, then one new day is run through the product's own jobs (``marketing_ops.runner``):

1. warm state: H days of raw tables at the requested scale, generated with SQL
   (``bench_dbt.generate_raw``, cached per scale under ``--cache``: two years take minutes),
   built into the warehouse (``bench_dbt.build``: dbt over every day, the data-driven weights,
   the attribution mart), then the decision loop once as of day H (``decide_and_act``: the
   knowledge graph, forecasts and decisions get their state);
2. the new day: its export files in the inbox (the simulator's market for the reference data
   and small sources, plus a GA4 export of ``--events-per-day`` events and the ad platforms'
   rows in the shapes ``bench_ingest.py`` writes), then ``ingest_and_model`` and
   ``decide_and_act`` for that day, timed per step from the runs' events.

Baseline, measured in the same run on the same file: bare DuckDB over the new day's raw rows
(``bench_dbt.bare_scan``: every column of every raw table, GA4 sessionised). The dbt part of
the day is reported as a multiple of it, and the day at the longest history against the day
at the shortest (the aim: a day's cost does not grow with history, <= 1.2x).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dbt  # noqa: E402  (a sibling benchmark: the generator and the bare scan)
import bench_ingest  # noqa: E402

os.environ.setdefault("MARKETING_OPS_DEMO", "1")

FIRST_DAY = date(2024, 1, 1)
# The data home's forecasting settings: response curves (what decisions need) from 14 days of
# history instead of 56, so that a 30-day history decides too.
FORECASTING_YAML = """forecasting:
  audiences:
    min_history_days: 14
  response:
    min_history_days: 14
"""
INGEST_JOB, DECIDE_JOB = "ingest_and_model", "decide_and_act"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def warm_home(root: Path, cache: Path, history: int, events_per_day: int):
    """A data home after ``history`` days: raw tables, the warehouse built, the decision loop
    run once as of the last day. Returns the home, the instance and the warm-up seconds."""
    from marketing_ops.config import data_home
    from marketing_ops.runner import prepare_instance, run_job

    home = data_home(root).ensure()
    home.settings.mkdir(parents=True, exist_ok=True)
    (home.settings / "forecasting.yaml").write_text(FORECASTING_YAML)
    last = FIRST_DAY + timedelta(days=history - 1)
    raw_cache = cache / f"raw-{history}x{events_per_day}.duckdb"
    bench_dbt.raw_tables(home.warehouse, raw_cache, FIRST_DAY, history, events_per_day)
    work = root / "dbt-warm-up"
    work.mkdir()
    t0 = time.perf_counter()
    bench_dbt.build(home.warehouse, work, FIRST_DAY, last, incremental=False)
    built = time.perf_counter() - t0
    new_day_files(home, last + timedelta(days=1), events_per_day, market_only=True)
    instance = prepare_instance(home)
    outcome = run_job(instance, DECIDE_JOB, last, last)
    if not outcome.success:
        raise SystemExit(f"warm-up {DECIDE_JOB} failed: {outcome.errors} (log {outcome.log_path})")
    return home, instance, {"warehouse build": built, "decision loop": outcome.seconds}


def new_day_files(home, day: date, events_per_day: int, market_only: bool = False) -> None:
    """The simulator's market (reference data, policies, CRM, email, offline files) for
    ``day``; unless ``market_only``, also a GA4 export of ``events_per_day`` events and the
    ad platforms' rows for that day."""
    from marketing_ops.simulator import WorldConfig, generate_history

    if market_only:
        generate_history(home, WorldConfig(seed=7, start=day, days=1))
        for source_inbox in home.inbox.iterdir():  # keep the reference data, not the day
            shutil.rmtree(source_inbox)
        return
    generate_history(home, WorldConfig(seed=7, start=day, days=1))
    rnd = random.Random(day.toordinal())
    bench_ingest.DAY = day  # the writers stamp this day
    for source, writer, rows, name in (
        ("ga4", bench_ingest.write_ga4, events_per_day, f"bench_ga4_{day:%Y%m%d}.jsonl"),
        ("google_ads", bench_ingest.write_google_ads, 200, f"bench_google_ads_{day}.csv"),
        ("meta_ads", bench_ingest.write_meta_ads, 600, f"bench_meta_ads_{day}.csv"),
    ):
        inbox = home.source_inbox(source)
        inbox.mkdir(parents=True, exist_ok=True)
        writer(inbox / name, rows, rnd)


def step_name(step_key: str) -> str:
    """A step's stage: dbt steps by name, the rest by asset group prefix."""
    head = step_key.split("__")[0]
    return step_key if head.startswith("warehouse_") else head


def one_day(home, instance, day: date, events_per_day: int) -> tuple[dict, dict]:
    """Ingest, dbt, graph, forecasts and decisions for ``day``: seconds per job and per step."""
    from marketing_ops.runner import run_job

    new_day_files(home, day, events_per_day)
    jobs, steps = {}, defaultdict(float)
    for job in (INGEST_JOB, DECIDE_JOB):
        outcome = run_job(instance, job, day, day)
        if not outcome.success:
            raise SystemExit(f"{job} failed: {outcome.errors} (log {outcome.log_path})")
        jobs[job] = outcome.seconds
        for step, seconds in outcome.step_seconds.items():
            steps[step_name(step)] += seconds
    return jobs, dict(steps)


def dbt_seconds(steps: dict[str, float]) -> float:
    return sum(s for step, s in steps.items() if step.startswith("warehouse_"))


def run_history(history: int, args) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"mo-bench-day-{history}-"))
    progress(f"history {history} days: warming {root}")
    home, instance, warm = warm_home(root, args.cache, history, args.events_per_day)
    progress(f"history {history} days: warm ({warm}); running the new day")
    day = FIRST_DAY + timedelta(days=history)
    jobs, steps = one_day(home, instance, day, args.events_per_day)
    scan = bench_dbt.bare_scan(home.warehouse, day)
    progress(f"history {history} days: {jobs}")
    return {"warm": warm, "jobs": jobs, "steps": steps, "scan": scan}


def report(results: dict[int, dict], events_per_day: int) -> None:
    histories = sorted(results)
    print(f"\nOne new day end to end, {events_per_day:,} GA4 events a day (seconds)")
    steps = sorted({s for r in results.values() for s in r["steps"]})
    print(f"{'step':<44}" + "".join(f"{f'{h} days':>12}" for h in histories))
    for step in steps:
        row = "".join(f"{results[h]['steps'].get(step, 0.0):>12.1f}" for h in histories)
        print(f"{step:<44}{row}")
    for label, value in (
        ("job ingest_and_model", lambda r: r["jobs"][INGEST_JOB]),
        ("job decide_and_act", lambda r: r["jobs"][DECIDE_JOB]),
        ("end to end", lambda r: sum(r["jobs"].values())),
        ("dbt steps", lambda r: dbt_seconds(r["steps"])),
        ("bare scan of the day (baseline)", lambda r: r["scan"]),
    ):
        print(f"{label:<44}" + "".join(f"{value(results[h]):>12.1f}" for h in histories))
    ratios = "".join(
        f"{dbt_seconds(results[h]['steps']) / results[h]['scan']:>11.0f}x" for h in histories
    )
    print(f"{'dbt steps / bare scan':<44}{ratios}")
    shortest, longest = histories[0], histories[-1]
    total = {h: sum(results[h]["jobs"].values()) for h in histories}
    print(
        f"day at {longest} days / day at {shortest} days of history: "
        f"{total[longest] / total[shortest]:.2f}x end to end, "
        f"{dbt_seconds(results[longest]['steps']) / dbt_seconds(results[shortest]['steps']):.2f}x dbt"
    )
    for h in histories:
        print(f"warm-up at {h} days (not part of the day): {results[h]['warm']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=int, nargs="+", default=[30, 365, 730])
    parser.add_argument("--events-per-day", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "mo-bench-day")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory limit.")
    args = parser.parse_args()
    os.environ["MARKETING_OPS_DUCKDB_MEMORY_LIMIT"] = args.memory_limit

    from marketing_ops.runner import ensure_dbt_manifest

    ensure_dbt_manifest()
    results = {h: run_history(h, args) for h in args.history}
    report(results, args.events_per_day)


if __name__ == "__main__":
    main()
