"""Incrementality tests benchmark: does the agent that tests earn more than the one that does not?

    .venv/bin/python benchmarks/bench_experiments.py [--seeds 0,1,2] [--history 60]
        [--warmup 60] [--draws 60] [--chains 1] [--replan-weeks 4] [--cost-quantile 0.9]
        [--tail-weeks 4] [--strategies none,voi,fixed] [--gate] [--out rows.csv]
    .venv/bin/python benchmarks/bench_experiments.py --summarise rows0.csv rows1.csv ...

(one process per seed can run side by side, each with its ``--out``; ``--summarise`` prints
the table of all of them).

Worlds: seeded weekly MMM worlds (marketing_ops.simulator.mmm_worlds) with 6 geos and 4
channels whose ad platforms over-claim (1.3-2.5x); every world from the second on has a
response shock on one channel in its history (the hostile case). After ``--history`` weeks the
agent runs 26 weeks, deciding every ``--replan-weeks`` (default 4: weeks 0, 4, ..., 24) how
much to spend per channel from then on (the multiple of the planned spend with the most
posterior-expected profit, :func:`experiments.profit_draws` at the plan's level), on a media
mix model refitted at each decision with every accepted read-out as calibration
(``forecasting.mmm.fit_mmm`` / ``calibrated_fit``, the product's functions). Strategies:

- (a) no tests;
- (b) value-of-information tests: :func:`experiments.governance.propose_tests` under a testing
  policy (every proposal approved, one geo test at a time; per channel a geo holdout or a geo
  spend-up of ``testing.spend_up_share`` more than the plan — the channel's recent level when
  the plan cuts it to zero — each priced at the plan's spend over its window, its cost at
  ``testing.cost_quantile`` of the posterior, ``--cost-quantile``), each geo design's
  pre-period ending before the first earlier test in its geos (as its read-out's),
  each valued over the weeks its answer can still steer (read at the first decision after it
  ends: with decisions every 4 weeks an 8-week test started in week 0 steers weeks 8-26,
  one started in week 20 nothing), read
  out by difference in differences when they end, fed back through
  :func:`experiments.calibration_input`; with ``--tail-weeks N`` (``testing.tail_weeks``)
  each is read again N weeks after its end, its carry-over alone as a second row
  (:func:`experiments.geo_tail_readout`), and its geos stay reserved until then (the
  strategy is then named ``voi-tailN``);
- (c) a fixed schedule: a 6-week geo holdout on every channel in turn (weeks 0, 6, 12, 18).

With ``--gate`` the agent decides as the product does: a fit that fails the convergence gate
(``FitDiagnostics.ok``; one chain never passes it, so use ``--chains 2``) makes no new plan
(the last one runs on; before any, the planned spend) and prices no test; ``blocked_fits``
counts them. Without it every fit is planned on, as the first benchmarks were.

Scored on the ground truth: profit over the 26 weeks (true incremental revenue of all channels
minus spend; base and noise are common to all strategies and cancel), so what a holdout loses
and saves is counted. Also: keeping the planned spend (no model) and the oracle (the true best
multiple per channel), and the model's ROAS error (median absolute relative error over
channels of the posterior mean ROAS) after the last fit, week 26. The ``tested`` column lists
the tests' channels, ``+`` marking a spend-up.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = 26
REPLAN_WEEKS = 4  # the agent re-plans every 4 weeks (13: the first benchmark's weeks 0 and 13)
SPLIT = 13  # the table's two halves: weeks 0-12 and 13-25
FIXED_WEEKS = 6


def epochs(replan_weeks: int) -> tuple[int, ...]:
    """The weeks of the 26 at which the agent decides."""
    return tuple(range(0, HORIZON, replan_weeks))


@dataclass
class Run:
    name: str
    spend: dict[str, np.ndarray]  # channel -> (G, T), the realised plan (holdouts zeroed)
    planned: dict[str, np.ndarray] = field(default_factory=dict)  # the plan before holdouts
    designs: list = field(default_factory=list)  # every test started (design, proposal or None)
    readouts: list = field(default_factory=list)
    verdicts: list = field(default_factory=list)
    tests_started: int = 0
    blocked: int = 0  # decisions whose fit failed the convergence gate (--gate)
    multiples: dict[str, float] = field(default_factory=dict)  # the plan in force (its last)


def world_config(seed: int, periods: int):
    from marketing_ops.simulator.mmm_worlds import MMMWorldConfig

    return MMMWorldConfig(seed=seed, freq="W", periods=periods, channels=4, geos=6, shock=seed > 0)


def national(frame: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    return frame.groupby("date", as_index=False)[["revenue", *channels, "price", "promo"]].sum()


def model_data(frame: pd.DataFrame, channels: list[str]):
    from marketing_ops.forecasting.mmm import mmm_data

    return mmm_data(national(frame, channels), "revenue", channels, "W", ["price", "promo"])


def fit(data, experiments, sampler):
    """The product's fitting functions: calibrated when there are read-outs, plain otherwise."""
    from marketing_ops.forecasting.mmm import calibrated_fit, fit_mmm

    if experiments:
        return calibrated_fit(data, experiments, sampler=sampler)[0]
    return fit_mmm(data, sampler=sampler)


def best_multiples(model, horizon: int, levels: dict[str, float]) -> dict[str, float]:
    """Per channel the multiple of the planned spend (``levels``: national spend per period
    over the weeks decided) with the most posterior-expected profit: the multiple the plan
    applies is the one the model priced."""
    from marketing_ops.experiments import profit_draws
    from marketing_ops.experiments.value import MULTIPLES

    return {
        c: float(
            MULTIPLES[
                profit_draws(model, c, horizon, n_draws=200, level=levels[c]).mean(axis=0).argmax()
            ]
        )
        for c in model.data.channels
    }


def planned_levels(base, t0: int) -> dict[str, float]:
    """Each channel's planned national spend per period from ``t0`` to the end."""
    return {c: float(v[:, t0:].sum(axis=0).mean()) for c, v in base.items()}


def realised(world, run: Run):
    from marketing_ops.simulator.mmm_worlds import with_spend

    return with_spend(world, run.spend)


def apply_plan(run: Run, base, t0: int, t1: int, multiples: dict[str, float], dates, geos):
    """The plan from ``t0`` (multiples of the planned spend); running tests keep their
    holdout."""
    for c, m in multiples.items():
        run.planned[c][:, t0:t1] = base[c][:, t0:t1] * m
    enforce_holdouts(run, dates, geos)


def enforce_holdouts(run: Run, dates, geos: list[str]) -> None:
    """Spend = the plan with every holdout's treated geos zeroed in its window (each design
    keeps what the plan would have spent there, its ``spend_removed``) and every spend-up's
    treated geos spending its ``added_by_geo`` on top of the plan, evenly over its window."""
    for c, v in run.planned.items():
        run.spend[c] = v.copy()
    for k, (design, proposal) in enumerate(run.designs):
        i0 = dates.get_loc(design.start)
        window = slice(i0, i0 + design.periods)
        if design.spend_up:
            for g in design.treated:
                add = design.notes["added_by_geo"][g] / design.periods
                run.spend[design.channel][geos.index(g), window] += add
            continue
        removed = 0.0
        for g in design.treated:
            removed += run.planned[design.channel][geos.index(g), window].sum()
            run.spend[design.channel][geos.index(g), window] = 0.0
        run.designs[k] = (replace(design, spend_removed=float(removed)), proposal)


def start_test(run: Run, design, proposal, dates, geos: list[str]) -> None:
    run.designs.append((design, proposal))
    enforce_holdouts(run, dates, geos)


def observed(world, run: Run, cutoff) -> pd.DataFrame:
    """What the agent has seen before ``cutoff``: the realised world's history."""
    frame = realised(world, run).frame
    return frame[frame["date"] < cutoff]


def read_out(world, run: Run, cutoff) -> None:
    """Read every test that has ended before ``cutoff`` and not been read yet, on the
    pre-period its design was made on (before any earlier test in its geos,
    :func:`experiments.designs.pre_period_end`); and the tail of every test whose
    ``readout_end`` has passed."""
    from marketing_ops.experiments import geo_readout, geo_tail_readout

    seen = observed(world, run, cutoff)
    done = {(r.design, r.tail) for r in run.readouts}
    for design, _ in run.designs:
        if (design.name, False) not in done and design.end < cutoff:
            run.readouts.append(geo_readout(seen, design, "revenue"))
        tail = design.readout_end is not None and design.readout_end < cutoff
        if tail and (design.name, True) not in done:
            run.readouts.append(geo_tail_readout(seen, design, "revenue"))


def calibration(world, run: Run, cutoff, channels):
    """The experiments the model accepts and the data it is fitted on."""
    from marketing_ops.experiments import calibration_input

    data = model_data(observed(world, run, cutoff), channels)
    if not run.readouts:
        return [], data
    designs = [d for d, _ in run.designs]
    accepted, run.verdicts = calibration_input(run.readouts, designs, data)
    return accepted, data


def steered_weeks(week: int, test_weeks: int, decided: tuple[int, ...]) -> int:
    """Weeks of the 26 that a test started at ``week`` can still steer: its answer is read at
    the first decision (of the weeks ``decided``) after it ends and steers the spend from there
    to week 26."""
    later = [e for e in decided if e >= week + test_weeks]
    return HORIZON - later[0] if later else 0


def voi_tests(model, run, world, t0, week, dates, geos, policy, multiples, decided):
    """The agent's tests: valued over the weeks their answer can steer, each priced at the
    plan's spend over its window (a channel planned at zero can get a spend-up only)."""
    from marketing_ops.experiments.governance import propose_tests

    horizon = steered_weeks(week, policy.max_weeks, decided)
    if horizon == 0:
        return {"*": f"no decision after a test started in week {week} ends: worth nothing"}
    frame = realised(world, run).frame
    running = [p for d, p in run.designs if d.read_until >= dates[t0] and p is not None]
    window = slice(t0, t0 + policy.max_weeks)
    planned = {c: float(v[:, window].sum(axis=0).mean()) for c, v in run.planned.items()}
    kept, why = propose_tests(
        model,
        frame[frame["date"] < dates[t0]],
        dates[t0],
        policy,
        running,
        horizon,
        planned=planned,
        earlier=[d for d, _ in run.designs],
    )
    for p in kept:
        start_test(run, p.design, p, dates, geos)
    proposed = {
        f"proposed {p.design.channel}": f"{p.design.periods} weeks, {len(p.design.treated)} geos"
        f" {'spend-up' if p.design.spend_up else 'holdout'} (planned x{multiples[p.design.channel]}),"
        f" worth {p.value.evsi:,.0f} (EVPI {p.value.evpi:,.0f}), cost "
        f"{p.value.cost:,.0f} (at the mean {p.value.expected_cost:,.0f}), power "
        f"{p.design.power:.2f}"
        for p in kept
    }
    return {**proposed, **why}


def fixed_tests(run, world, t0, t1, dates, geos, channels, history):
    from marketing_ops.experiments import geo_holdout

    frame = realised(world, run).frame
    for k, week in enumerate(range(0, HORIZON - FIXED_WEEKS + 1, FIXED_WEEKS)):
        start = history + week
        if t0 <= start < t1 and k < len(channels):
            seen = frame[frame["date"] < dates[start]]
            earlier = [d for d, _ in run.designs]
            d = geo_holdout(
                seen,
                channels[k],
                "revenue",
                dates[start],
                FIXED_WEEKS,
                earlier=earlier,
                adjust_for=tuple(channels),
            )
            start_test(run, d, None, dates, geos)


def profit(world, run: Run, history: int, weeks: tuple[int, int] = (0, HORIZON)) -> float:
    """True incremental revenue minus spend over ``weeks`` of the 26 (all of them by default)."""
    c = realised(world, run).contributions
    dates = sorted(c["date"].unique())
    future = c[
        (c["date"] >= dates[history + weeks[0]]) & (c["date"] <= dates[history + weeks[1] - 1])
    ]
    return float(future["incremental_revenue"].sum() - future["spend"].sum())


def roas_error(model, world, run: Run) -> float:
    from marketing_ops.forecasting.mmm import channel_summary

    truth = realised(world, run).roas
    s = channel_summary(model).set_index("channel")["roas"]
    return float(np.median([abs(s[c] / truth[c] - 1) for c in s.index]))


def oracle(world, base, history: int) -> float:
    """The true best multiple per channel over the 26 weeks (channels add up)."""
    from marketing_ops.experiments.value import MULTIPLES
    from marketing_ops.simulator.mmm_worlds import true_incremental

    total = 0.0
    for ch in world.channels:
        best = -np.inf
        for m in MULTIPLES:
            spend = base[ch.name].copy()
            spend[:, history:] *= m
            inc = true_incremental(ch, spend, "W")[:, history:].sum()
            best = max(best, inc - spend[:, history:].sum())
        total += best
    return total


def shift(world, run: Run, before, after, accepted, seed: int) -> pd.DataFrame:
    """ROAS per channel without and with the accepted read-outs, and the truth."""
    from marketing_ops.experiments.report import posterior_shift
    from marketing_ops.forecasting.mmm import channel_summary

    tested = sorted({e.channel for e in accepted})
    frame = posterior_shift(
        channel_summary(before), channel_summary(after), tested, realised(world, run).roas
    )
    return frame.assign(world=seed, strategy=run.name)


def say(seed: int, what: str, started: float) -> None:
    print(f"[world {seed} {time.perf_counter() - started:6.0f} s] {what}", flush=True)


def run_world(seed: int, args, shifts: list[pd.DataFrame]) -> list[dict]:
    from marketing_ops.decisioning.policy import TestingPolicy
    from marketing_ops.forecasting.mmm import SamplerSettings
    from marketing_ops.simulator.mmm_worlds import make_mmm_world

    history = args.history
    world = make_mmm_world(world_config(seed, history + HORIZON))
    channels, geos = world.spend_columns, [f"geo{i}" for i in range(6)]
    dates = pd.DatetimeIndex(sorted(world.frame["date"].unique()))
    base = {c: world.frame[c].to_numpy(float).reshape(6, -1) for c in channels}
    sampler = SamplerSettings(warmup=args.warmup, draws=args.draws, chains=args.chains, seed=seed)
    policy = TestingPolicy(
        enabled=True,
        budget_eur=1e12,
        min_power=0.5,
        min_weeks=4,
        max_weeks=8,
        max_concurrent=1,
        tail_weeks=args.tail_weeks,
    )
    if args.cost_quantile is not None:
        policy = policy.model_copy(update={"cost_quantile": args.cost_quantile})
    started = time.perf_counter()
    say(seed, "first fit", started)
    first = fit(
        model_data(world.frame[world.frame["date"] < dates[history]], channels), [], sampler
    )
    runs = {
        n: Run(
            f"voi-tail{args.tail_weeks}" if n == "voi" and args.tail_weeks else n,
            {c: v.copy() for c, v in base.items()},
            {c: v.copy() for c, v in base.items()},
        )
        for n in args.strategies.split(",")
    }
    notes = {}
    decided = epochs(args.replan_weeks)
    for e, week in enumerate(decided):
        t0 = history + week
        t1 = history + (decided[e + 1] if e + 1 < len(decided) else HORIZON)
        for run in runs.values():
            say(seed, f"week {week}: {run.name}", started)
            read_out(world, run, dates[t0])
            accepted, data = calibration(world, run, dates[t0], channels)
            model = first if e == 0 else fit(data, accepted, sampler)
            # --gate: as in the product, a fit that fails the convergence gate makes no new
            # plan (the last one runs on; before any, the planned spend) and prices no test
            blocked = args.gate and not model.diagnostics.ok
            run.blocked += blocked
            if not blocked:
                run.multiples = best_multiples(model, HORIZON - week, planned_levels(base, t0))
            multiples = run.multiples or dict.fromkeys(channels, 1.0)
            apply_plan(run, base, t0, t1, multiples, dates, geos)
            if run.name.startswith("voi") and blocked:
                notes[week] = {"*": f"fit blocked by the gate: {model.diagnostics.reasons}"}
            elif run.name.startswith("voi"):
                notes[week] = voi_tests(
                    model, run, world, t0, week, dates, geos, policy, multiples, decided
                )
            if run.name == "fixed":
                fixed_tests(run, world, t0, t1, dates, geos, channels, history)
    rows = []
    end = dates[-1] + pd.Timedelta(weeks=1)
    keep = Run("keep", {c: v.copy() for c, v in base.items()})
    best = oracle(world, base, history)
    for run in runs.values():
        say(seed, f"final fit: {run.name}", started)
        read_out(world, run, end)
        accepted, data = calibration(world, run, end, channels)
        final = fit(data, accepted, sampler)
        before = None
        if accepted:  # the same data fitted without the read-outs: what calibration changed
            say(seed, f"final fit without calibration: {run.name}", started)
            before = shift(world, run, fit(data, [], sampler), final, accepted, seed)
            shifts.append(before)
        rows.append(
            {
                "world": seed,
                "strategy": run.name,
                "profit": profit(world, run, history),
                # with decisions at weeks 0 and 13 only (--replan-weeks 13) weeks 0-12 run
                # the same plan in every strategy (the first fit): the difference there is
                # what the tests cost; weeks 13-25 what they taught. Re-planning more often,
                # the first half holds early answers too.
                "profit_weeks_0_12": profit(world, run, history, (0, SPLIT)),
                "profit_weeks_13_25": profit(world, run, history, (SPLIT, HORIZON)),
                "keep_profit": profit(world, keep, history),
                "oracle_profit": best,
                "tests": len(run.designs),
                "blocked_fits": run.blocked,
                "accepted": sum(v.accepted for v in run.verdicts),
                "tails_accepted": sum(v.accepted and v.experiment.tail_only for v in run.verdicts),
                "roas_error": roas_error(final, world, run),
                "roas_error_uncalibrated": np.nan
                if before is None
                else float((before["roas_before"] / before["true_roas"] - 1).abs().median()),
                "first_fit_roas_error": roas_error(first, world, keep),
                "max_rhat": final.diagnostics.max_rhat,
                "tested": ",".join(d.channel + ("+" if d.spend_up else "") for d, _ in run.designs),
                "verdicts": "; ".join(
                    f"{v.experiment.channel}{' (tail)' if v.experiment.tail_only else ''}: "
                    f"{v.reason}"
                    for v in run.verdicts
                ),
            }
        )
    print(f"world {seed}: {time.perf_counter() - started:.0f} s; voi not proposed: {notes}")
    return rows


COLUMNS = [
    "world",
    "strategy",
    "profit",
    "uplift_vs_keep",
    "share_of_oracle_uplift",
    "tests",
    "blocked_fits",
    "accepted",
    "tails_accepted",
    "profit_weeks_0_12",
    "profit_weeks_13_25",
    "roas_error",
    "roas_error_uncalibrated",
    "first_fit_roas_error",
    "tested",
]


def summarise(table: pd.DataFrame) -> None:
    table = table.copy()
    table["uplift_vs_keep"] = table["profit"] - table["keep_profit"]
    table["share_of_oracle_uplift"] = table["uplift_vs_keep"] / (
        table["oracle_profit"] - table["keep_profit"]
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.reindex(columns=COLUMNS).round(3).to_string(index=False))
        means = [
            "profit",
            "uplift_vs_keep",
            "share_of_oracle_uplift",
            "roas_error",
            "roas_error_uncalibrated",
        ]
        print(table.groupby("strategy")[means].mean().round(3))
    for r in table.to_dict("records"):
        if isinstance(r["verdicts"], str) and r["verdicts"]:
            print(f"world {r['world']} {r['strategy']}: {r['verdicts']}")


def print_shifts(shifts: list[pd.DataFrame]) -> None:
    """Per world and strategy with accepted read-outs: ROAS before and after calibration."""
    from marketing_ops.experiments.report import posterior_shift_markdown

    for frame in shifts:
        print(
            f"\nworld {frame['world'].iloc[0]} {frame['strategy'].iloc[0]}: ROAS per channel "
            "fitted without / with the accepted read-outs (same data)"
        )
        print(posterior_shift_markdown(frame))


def main() -> None:
    from marketing_ops.decisioning.policy import TestingPolicy

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--history", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--draws", type=int, default=60)
    parser.add_argument("--chains", type=int, default=1)
    parser.add_argument(
        "--replan-weeks",
        type=int,
        default=REPLAN_WEEKS,
        help="weeks between the agent's decisions (13: weeks 0 and 13, the first benchmark's)",
    )
    parser.add_argument(
        "--cost-quantile",
        type=float,
        default=None,
        help="testing.cost_quantile for (b) (default: the policy's, "
        f"{TestingPolicy().cost_quantile}); 0.5 prices a test's cost at the median",
    )
    parser.add_argument(
        "--tail-weeks",
        type=int,
        default=0,
        help="testing.tail_weeks for (b): read each geo test again this many weeks after its "
        "end (its carry-over, a second calibration row); its geos stay reserved until then",
    )
    parser.add_argument(
        "--strategies",
        default="none,voi,fixed",
        help="which of (a) none, (b) voi, (c) fixed to run (comma-separated)",
    )
    parser.add_argument(
        "--gate",
        action="store_true",
        help="decide as the product does: a fit that fails the convergence gate makes no new "
        "plan and prices no test (use --chains 2 or more: one chain never passes it)",
    )
    parser.add_argument("--out", default="")
    parser.add_argument("--summarise", nargs="*", default=None)
    args = parser.parse_args()
    if args.summarise:
        summarise(pd.concat([pd.read_csv(p) for p in args.summarise], ignore_index=True))
        for p in args.summarise:
            path = p.replace(".csv", "") + ".shift.csv"
            if Path(path).exists():
                shifted = pd.read_csv(path)
                print_shifts([g for _, g in shifted.groupby(["world", "strategy"], sort=False)])
        return
    from marketing_ops.forecasting import quiet_logs

    quiet_logs()
    seeds = [int(s) for s in args.seeds.split(",")]
    shifts: list[pd.DataFrame] = []
    table = pd.DataFrame([r for seed in seeds for r in run_world(seed, args, shifts)])
    if args.out:
        table.to_csv(args.out, index=False)
        if shifts:
            pd.concat(shifts).to_csv(args.out.replace(".csv", "") + ".shift.csv", index=False)
    summarise(table)
    print_shifts(shifts)
    print(
        f"sampler: warmup {args.warmup}, draws {args.draws}, chains {args.chains}"
        f"{', gated' if args.gate else ''}; "
        f"history {args.history} weeks, 26 planned, re-planned every {args.replan_weeks} weeks"
    )


if __name__ == "__main__":
    main()
