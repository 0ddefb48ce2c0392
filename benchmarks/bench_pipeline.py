"""End-to-end benchmark: wall time of the whole pipeline over N days of simulated history,
split by asset group, on a fresh data home and a real (SQLite-backed) Dagster instance.

    .venv/bin/python benchmarks/bench_pipeline.py [--days 90] [--seed 7]

Prints a table of seconds per group and the share of the total; the baseline in the same run
is the cost of simulating the same market (the work every stage must at least keep up with).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("MARKETING_OPS_DEMO", "1")

STEP_GROUPS = {
    "raw": "signals",
    "warehouse_staging": "warehouse",
    "warehouse_models": "warehouse",
    "warehouse_publish": "warehouse",
    "config": "warehouse",
    "attribution": "warehouse",
    "graph": "knowledge_graph",
    "forecasts": "forecasts",
    "decisions": "decisions",
    "execution": "execution",
    "measurement": "measurement",
    "learning": "learning",
}


def group_of(step_key: str) -> str:
    if "gx_" in step_key:
        return "quality gates"
    head = re.sub(r"_\d+$", "", step_key.split("__")[0])  # Dagster numbers split subsets
    return STEP_GROUPS.get(head, STEP_GROUPS.get(step_key, head))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from marketing_ops.config import data_home
    from marketing_ops.runner import (
        PlainProgress,
        ensure_dbt_manifest,
        prepare_instance,
        run_window,
    )
    from marketing_ops.simulator import WorldConfig, generate_history

    ensure_dbt_manifest()
    home = data_home(Path(tempfile.mkdtemp(prefix="mo-bench-"))).ensure()
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)

    t0 = time.perf_counter()
    generate_history(home, WorldConfig(seed=args.seed, start=start, days=args.days))
    simulate_s = time.perf_counter() - t0

    instance = prepare_instance(home)
    t0 = time.perf_counter()
    outcomes = run_window(instance, start, end, progress=PlainProgress())
    total = time.perf_counter() - t0

    by_group: dict[str, float] = defaultdict(float)
    for o in outcomes:
        for step, seconds in o.step_seconds.items():
            by_group[group_of(step)] += seconds
    print(
        f"\nPipeline over {args.days} days ({start}..{end}), seed {args.seed}, data home {home.root}"
    )
    print(f"{'group':<18}{'seconds':>10}{'share':>9}")
    for group, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"{group:<18}{seconds:>10.1f}{seconds / total:>9.1%}")
    overhead = total - sum(by_group.values())
    print(f"{'dagster overhead':<18}{overhead:>10.1f}{overhead / total:>9.1%}")
    print(f"{'total':<18}{total:>10.1f}")
    for o in outcomes:
        print(
            f"run {o.job}: {o.seconds:.1f} s, {o.events:,} events written, "
            f"{o.materializations:,} materialisations"
        )
    print(
        f"baseline: simulating the same market took {simulate_s:.1f} s "
        f"(pipeline / simulation = {total / simulate_s:.1f}x)"
    )
    print("runs ok:", all(o.success for o in outcomes))


if __name__ == "__main__":
    main()
