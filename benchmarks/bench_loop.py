"""Closed-loop benchmark: the agent against a static campaign-by-campaign baseline and the
oracle over N days of the demo market (seed 7, 730 days of history by default).

    .venv/bin/python benchmarks/bench_loop.py [--days 60] [--history 730] [--seed 7]
        [--measure-every 7] [--shock paid_search] [--world all_at_once]
        [--testing-budget EUR] [--testing-set KEY=VALUE ...] [--geos N]

The baseline runs in the same world and the same process: every campaign kept at its
last-week spend. All three are scored on the simulator's true expected revenue of paid
media (no noise), so the comparison is the policies', not the dice's. Also prints the wall
time of each phase of the loop. ``--testing-budget`` lets the agent run its own
incrementality tests (spend pulses, or geo tests with ``--geos N``,
``LoopConfig.testing_budget_eur``): run it beside a run
without on the same world and seed to see what testing earns, its cost counted (the pulses'
spend is in the agent's true spend path). ``--testing-set min_power=0`` and the like change
other testing.yaml thresholds in the loop's world (to force tests the shipped policy
declines and measure what they cost).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MARKETING_OPS_DEMO", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--history", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure-every", type=int, default=7)
    parser.add_argument("--shock", default=None, help="plant a cost shock on this channel")
    parser.add_argument(
        "--world", default=None, help="a hostile market: a simulator.hostile_worlds() preset"
    )
    parser.add_argument("--home", default=None)
    parser.add_argument("--testing-budget", type=float, default=0.0)
    parser.add_argument("--testing-set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--geos", type=int, default=0, help="regions of the market (geo tests); 0: national"
    )
    args = parser.parse_args()

    from marketing_ops.closed_loop import LoopConfig, run_loop
    from marketing_ops.runner import ensure_dbt_manifest

    ensure_dbt_manifest()
    root = Path(args.home or tempfile.mkdtemp(prefix="mo-loop-"))
    cfg = LoopConfig(
        days=args.days,
        history_days=args.history,
        seed=args.seed,
        measure_every=args.measure_every,
        shock_channel=args.shock,
        world=args.world,
        testing_budget_eur=args.testing_budget,
        geos=args.geos,
        testing_settings=tuple(
            (k, float(v)) for k, v in (kv.split("=", 1) for kv in args.testing_set)
        ),
    )
    t0 = time.perf_counter()

    def progress(done: int, note: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f}s] {done:>3}/{args.days} {note}", flush=True)

    result = run_loop(root / "world", cfg, progress=progress)
    total = time.perf_counter() - t0

    p = result.profit
    print(
        f"\nClosed loop {result.start}..{result.end}: {args.days} days after {args.history} "
        f"days of history, seed {args.seed}{', shock on ' + args.shock if args.shock else ''}"
        f"{', world ' + args.world if args.world else ''}"
        f"{f', testing budget {args.testing_budget:,.0f} EUR' if args.testing_budget else ''}"
        f"{f', {args.geos} geos' if args.geos > 1 else ''}"
    )
    print(f"{'policy':<30}{'spend':>12}{'revenue':>12}{'profit':>12}{'vs static':>12}{'ratio':>8}")
    base = float(p.loc[p["policy"].str.startswith("static"), "profit"].iloc[0])
    for r in p.itertuples():
        print(
            f"{r.policy:<30}{r.spend:>12,.0f}{r.revenue:>12,.0f}{r.profit:>12,.0f}"
            f"{r.vs_static:>+12,.0f}{r.profit / base:>8.3f}"
        )
    agent = float(p.loc[p["policy"] == "agent", "profit"].iloc[0])
    oracle = float(p.loc[p["policy"] == "oracle", "profit"].iloc[0])
    gap = oracle - base
    print(
        f"agent closes {(agent - base) / gap:.0%} of the static-to-oracle profit gap"
        if gap > 0
        else "oracle does not beat the static baseline here"
    )
    print("\nphase                              seconds")
    for k, v in sorted(result.seconds.items(), key=lambda kv: -kv[1]):
        print(f"{k:<35}{v:>8.1f}")
    print(f"{'total wall time':<35}{total:>8.1f}")
    print()
    for line in result.notes:
        print(line)


if __name__ == "__main__":
    main()
