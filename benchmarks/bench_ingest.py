"""Ingest throughput: one day of 1 million events per source, against DuckDB's bare read.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3] [--gzip]

Writes one day's export per source in the simulator's shapes (GA4 JSON lines, the Google Ads
campaign CSV, the Meta Ads insights CSV with actions lists), then times, on the same file:

- baseline: DuckDB's own bare read into a table (``CREATE TABLE t AS SELECT * FROM
  read_json/read_csv(file)``, types auto-detected, nothing checked), in a fresh database file;
- ingest: what the Dagster asset ``raw/<source>`` runs, on a fresh data home holding the
  file: ``ingest_source`` (hash, archive copy verified against the bytes read and read by
  DuckDB, limits, validation of every row (bulk in DuckDB, leftovers in Python), the raw
  table, rejects, file log, key replacement) then its check ``file_log_discrepancies``
  (received = loaded + rejected, every loaded row present or replaced), on a connection
  opened as the asset opens it.

``--steps`` profiles one more ingest per file and prints the seconds of each step.

Each is run ``--repeat`` times in alternating order and the fastest run is kept (the machine is
shared and noisy). The ratio is ingest rows/s over bare-read rows/s: the aim is at least 0.5.
The cpu ratio is the same with the CPU seconds of the process (all threads) in place of wall
seconds: work done rather than time waited, which other loads on the machine disturb less
(on an idle machine the wall ratio is what counts). A last column gives the Python-only
validator's rows/s on a 50,000-row slice of the same file, for scale.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

os.environ.setdefault("MARKETING_OPS_DEMO", "1")

DAY = date(2026, 3, 2)
PYTHON_SLICE = 50_000


def write_ga4(path: Path, rows: int, rnd: random.Random) -> None:
    """GA4 BigQuery export lines as the simulator writes them (sessions of 2-3 events)."""
    start = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp()) * 1_000_000
    stamp = DAY.strftime("%Y%m%d")
    channels = [
        ("google", "cpc", "SEARCH | brand", "9000000101"),
        ("facebook", "paid_social", "PROSPECTING", "2385000000101"),
        ("newsletter", "email", "em-20260302-loyal_customers", "em-20260302-loyal_customers"),
        ("google", "organic", None, None),
    ]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as out:
        written = 0
        while written < rows:
            t0 = start + rnd.randrange(0, 86_000_000_000)
            session = t0 // 1_000_000
            pseudo = f"{rnd.randrange(10**9, 10**10)}.{session}"
            source, medium, campaign, campaign_id = rnd.choice(channels)
            names = ["session_start", "page_view"] + (["purchase"] if rnd.random() < 0.05 else [])
            for k, name in enumerate(names):
                if written >= rows:
                    break
                purchase = name == "purchase"
                event = {
                    "event_date": stamp,
                    "event_timestamp": t0 + k * 7_000_000,
                    "event_name": name,
                    "user_pseudo_id": pseudo,
                    "user_id": f"C{rnd.randrange(10**6):06d}" if purchase else None,
                    "event_params": [
                        {"key": "ga_session_id", "value": {"int_value": session}},
                        {
                            "key": "page_location",
                            "value": {"string_value": "https://shop.example.com/product"},
                        },
                    ],
                    "traffic_source": {"name": campaign, "medium": medium, "source": source},
                    "collected_traffic_source": {
                        "manual_source": source,
                        "manual_medium": medium,
                        "manual_campaign_name": campaign,
                        "manual_campaign_id": campaign_id,
                        "manual_content": None,
                        "gclid": f"Cj0K{session}" if medium == "cpc" else None,
                    },
                    "ecommerce": {
                        "purchase_revenue": round(rnd.uniform(20, 300), 2),
                        "transaction_id": f"T{session}{k}",
                    }
                    if purchase
                    else None,  # fmt: skip
                    "items": [{"item_id": "SKU-1"}] if purchase else [],
                    "device": {"category": rnd.choice(["desktop", "mobile", "tablet"])},
                    "geo": {"country": "Germany"},
                }
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
                written += 1


def write_google_ads(path: Path, rows: int, rnd: random.Random) -> None:
    from marketing_ops.simulator.market import GOOGLE_HEADER

    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(GOOGLE_HEADER) + "\n")
        for i in range(rows):
            impressions = rnd.randrange(100, 20_000)
            clicks = rnd.randrange(0, impressions // 8 + 1)
            kind = "SEARCH" if i % 3 else "DISPLAY"
            out.write(
                f"{DAY},{9_000_000_000 + i},{kind} | group {i % 997},{impressions},{clicks},"
                f"{clicks * 0.83:.2f},{clicks / 31:.2f},{clicks * 2.7:.2f},EUR\n"
            )


def write_meta_ads(path: Path, rows: int, rnd: random.Random) -> None:
    from marketing_ops.simulator.market import META_ACCOUNT, META_HEADER

    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(META_HEADER) + "\n")
        for i in range(rows):
            impressions = rnd.randrange(500, 50_000)
            clicks = rnd.randrange(0, impressions // 40 + 1)
            purchases = clicks // 25
            actions = json.dumps(
                [
                    {"action_type": "link_click", "value": str(clicks)},
                    {
                        "action_type": "offsite_conversion.fb_pixel_purchase",
                        "value": str(purchases),
                    },
                ]
            ).replace('"', '""')
            values = json.dumps(
                [
                    {
                        "action_type": "offsite_conversion.fb_pixel_purchase",
                        "value": f"{purchases * 61.5:.2f}",
                    }
                ]  # fmt: skip
            ).replace('"', '""')
            out.write(
                f"{DAY},{DAY},{META_ACCOUNT},{2_385_000_000_000 + i % 5000},PROSPECTING {i % 5000},"
                f"{2_385_100_000_000 + i % 20000},{2_385_200_000_000 + i},{impressions},{clicks},"
                f'{clicks * 0.41:.2f},EUR,"{actions}","{values}"\n'
            )


def bare_read(path: Path, source: str, workdir: Path) -> tuple[float, float]:
    db = workdir / f"bare-{time.monotonic_ns()}.duckdb"
    con = duckdb.connect(str(db))
    reader = "read_json" if source == "ga4" else "read_csv"
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [str(path)])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    db.unlink()
    return seconds, cpu


def ingest(path: Path, source: str, workdir: Path, rows: int) -> tuple[float, float]:
    """The asset's work on one file (``marketing_ops.defs.signals.assets``): ingest, then the
    reconciliation check, on a connection opened by ``warehouse.connect``."""
    from marketing_ops.config import data_home
    from marketing_ops.signals import file_log_discrepancies, ingest_source
    from marketing_ops.warehouse import connect

    home = data_home(workdir / f"home-{time.monotonic_ns()}").ensure()
    inbox = home.source_inbox(source)
    inbox.mkdir(parents=True, exist_ok=True)
    os.link(path, inbox / path.name)
    with connect(home.warehouse) as con:
        t0, c0 = time.perf_counter(), time.process_time()
        report = ingest_source(
            home, con, source, DAY, DAY, b"bench-key", today=DAY + timedelta(days=1)
        )
        problems = file_log_discrepancies(con, source)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert not problems, problems
    assert report.loaded == rows and report.rejected == 0, report.to_metadata()
    assert report.files[0].validated == "bulk", report.files[0]
    shutil.rmtree(home.root)
    return seconds, cpu


# Where an ingest's time goes: (step, module, function), timed by cProfile's cumulative time.
STEPS = (
    ("settle check", "signals/ingest/files.py", "settled_files"),
    ("read", "signals/ingest/files.py", "read_if_unchanged"),
    ("hash", "signals/ingest/read.py", "file_hash"),
    ("archive copy", "signals/ingest/files.py", "archive_copy"),
    ("limits", "signals/ingest/read.py", "check_size"),
    ("layout + lines", "signals/ingest/validate.py", "_bulk_layout"),
    ("validate (SQL)", "signals/bulk.py", "stage_file"),
    ("validate (Python)", "signals/ingest/validate.py", "_validate_lines"),
    ("schema", "signals/store.py", "ensure_raw_schema"),
    ("delete replaced files", "signals/store.py", "_delete_files"),
    ("insert", "signals/bulk.py", "insert_staged"),
    ("key replacement", "signals/store.py", "_replace_by_key"),
    ("reconciliation check", "signals/store.py", "file_log_discrepancies"),
)


def step_seconds(path: Path, source: str, workdir: Path, rows: int) -> dict[str, float]:
    """One more ingest under cProfile: seconds per step of :data:`STEPS`, and the total."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    total, _ = ingest(path, source, workdir, rows)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    seconds = dict.fromkeys([name for name, _, _ in STEPS], 0.0)
    for (filename, _, function), (_, _, _, cumulative, _) in stats.items():
        for name, module, wanted in STEPS:
            if function == wanted and filename.endswith(module):
                seconds[name] += cumulative
    seconds["other"] = total - sum(seconds.values())
    seconds["total"] = total
    return seconds


def print_steps(source: str, seconds: dict[str, float]) -> None:
    shown = ", ".join(f"{name} {s:.2f}" for name, s in seconds.items() if s >= 0.005)
    print(f"  {source} steps (s, one profiled run): {shown}")


def python_rows_per_second(path: Path, source: str) -> float:
    from marketing_ops.signals import parse_signal_file

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        head = b"".join(line for _, line in zip(range(PYTHON_SLICE + 1), f, strict=False))
    t0 = time.perf_counter()
    parsed = parse_signal_file(source, head, path.name, b"bench-key", today=DAY + timedelta(days=1))
    return parsed.received / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="also time a gzipped GA4 export")
    parser.add_argument(
        "--steps", action="store_true", help="also profile one ingest and print time per step"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mo-bench-ingest-"))
    rnd = random.Random(20260302)
    files = [
        ("ga4", workdir / f"ga4_{DAY}.jsonl", write_ga4),
        ("google_ads", workdir / f"google_ads_{DAY}.csv", write_google_ads),
        ("meta_ads", workdir / f"meta_ads_{DAY}.csv", write_meta_ads),
    ]
    if args.gzip:
        files.insert(1, ("ga4", workdir / f"ga4_{DAY}.jsonl.gz", write_ga4))
    print(f"Writing {len(files)} files of {args.rows:,} rows for {DAY} in {workdir} ...")
    for _, path, write in files:
        write(path, args.rows, rnd)

    print(
        f"\n{'file':<28}{'MB':>7}{'bare s':>9}{'bare rows/s':>14}{'ingest s':>10}"
        f"{'ingest rows/s':>15}{'ratio':>7}{'cpu ratio':>10}{'python rows/s':>15}"
    )
    try:
        for source, path, _ in files:
            bare, ours = [], []
            for i in range(args.repeat):
                order = (bare_read, ingest) if i % 2 == 0 else (ingest, bare_read)
                for step in order:
                    if step is bare_read:
                        bare.append(bare_read(path, source, workdir))
                    else:
                        ours.append(ingest(path, source, workdir, args.rows))
            b, o = min(w for w, _ in bare), min(w for w, _ in ours)
            cpu_ratio = min(c for _, c in bare) / min(c for _, c in ours)
            python = python_rows_per_second(path, source)
            size = path.stat().st_size / 1e6
            print(
                f"{path.name:<28}{size:>7.0f}{b:>9.2f}{args.rows / b:>14,.0f}{o:>10.2f}"
                f"{args.rows / o:>15,.0f}{b / o:>7.2f}{cpu_ratio:>10.2f}{python:>15,.0f}"
            )
            if args.steps:
                print_steps(source, step_seconds(path, source, workdir, args.rows))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\nratio = ingest rows/s / bare-read rows/s (best of {args.repeat}; aim >= 0.5). "
        "cpu ratio = the same in CPU seconds (best of each). "
        f"python = the row-by-row validator on {PYTHON_SLICE:,} rows of the same file. "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
    )


if __name__ == "__main__":
    main()
