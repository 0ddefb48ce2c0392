"""Media mix model benchmark: recovery, interval coverage, time and memory, against the anchor.

    .venv/bin/python benchmarks/bench_mmm.py [--worlds 6] [--anchor] [--meridian]
        [--lift-tests market|pair|audience] [--prior FIELD=VALUE] [--sampler FIELD=VALUE] [--daily]
        [--demo] [--market N [--market-world NAME]] [--study] [--jobs 1] [--draws 500]
        [--warmup 500] [--periods 156]

Worlds are seeded aggregate worlds (marketing_ops.simulator.mmm_worlds): weekly national KPI
with 4-6 channels whose ad platforms over-claim; every third world has a mid-history shock on
one channel (fitted with the time-varying effect). Per world: median absolute ROAS error over
channels (the model's and the platform-reported ROAS's), share of channels whose 80 % ROAS
interval covers the truth, share of 0.5x / 1.5x counterfactual intervals covering the truth,
our marginal ROAS's (the next 1 % of spend) absolute error and coverage, fit wall and CPU
seconds, peak memory (each fit runs in its own process), converged or not.

``--anchor`` fits PyMC-Marketing's MMM on the same worlds (and the Meridian national file with
``--meridian``) in benchmarks/.anchor-venv, created on first use (pymc-marketing 0.19.2, the
newest release for Python 3.11). ``--daily`` times one two-year daily fit of six channels;
``--demo`` fits the product demo's shape (the hostile ``all_at_once`` daily world, 730 days,
4 paid channels) through the forecasts asset's own ``fit_channel_kpis`` with the shipped
settings (forecasting.yaml's sampler, or ``--warmup``/``--draws`` when given) and reports
whether it converged, its worst sites and its seconds.

``--market N`` (with ``--worlds 0`` to skip the weekly worlds) fits N seeds of the product's
own market simulator (seed 7 is the demo's market; ``--market-world`` a hostile preset), two
years daily, through the same ``fit_channel_kpis`` and shipped settings the forecasts asset
uses, and scores them on the simulator's truth in conversions per 1,000 EUR (seasonality and
shocks included): per world and channel ROAS and marginal ROAS with their 80 % intervals
against the truth, email (whose cost is nominal: scored apart) and the base's share of the
KPI; then the totals and each channel's median signed errors. With ``--lift-tests audience``
the fit calibrates on the market's past studies exactly as ``marketing-ops demo`` writes them
(``simulator.lift_studies.PAST_STUDIES``).

``--lift-tests market|pair|audience`` runs 4-week tests in each world, each one's true lift
(over the test and the 8 weeks after it) read out with a 20 % relative error
(:func:`observed_world`): ``market`` holds back half of each channel's spend in the whole
market (the lift is the response at the margin), ``pair`` adds a spend-up of the same half per
channel (the agent's two designs: the curve below and above today's spend), ``audience`` is a
platform's randomised audience holdout per channel (the lift is the channel's whole effect). Both models fit the world the tests leave
behind, each calibrated on them: ours through the product's own ``calibrated_fit`` (each test
quality-checked first), the anchor through ``add_lift_test_measurements``. ``--prior`` and
``--sampler`` set fields of our model's ``Priors`` and ``SamplerSettings`` (studies).

``--study`` is the coverage study (``--worlds 40 --study``): a cheaper sampler (250 warmup +
250 draws x 2 chains, unless ``--warmup``/``--draws`` are given) and two worlds at a time
(``--jobs 2``); it reports ROAS and 0.5x/1.5x 80 % interval coverage over all worlds.
The machine may be shared: CPU seconds are the comparable number, wall seconds what you waited.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ANCHOR_VENV = HERE / ".anchor-venv"
ANCHOR_PIN = "pymc-marketing==0.19.2"
STUDY_SAMPLER = 250  # warmup and draws per chain in the coverage study
# --lift-tests: one holdout per channel (weeks, share of spend held back, relative error)
HOLDOUT_WEEKS, HOLDOUT_SHARE, HOLDOUT_SE = 4, 0.5, 0.2
READOUT_WEEKS = 8  # read out past the test's end: its carry-over (decay <= 0.55: < 1 % left)
# ../shared beside the repository, as in README (parents[3] pointed at /shared)
MARKET_SEED = 7  # --market's first seed: the demo's market
MARKET_START = date(2024, 12, 7)  # --market's two years: the demo's, as of 2026-12-06
PER = 1000.0  # --market's ROAS and marginal ROAS: conversions per 1,000 EUR
MERIDIAN = (
    Path(__file__).resolve().parents[2] / "shared/fixtures/public/meridian/national_media.csv"
)


def world_config(seed: int, periods: int, freq: str = "W", channels: int | None = None):
    from marketing_ops.simulator.mmm_worlds import MMMWorldConfig

    return MMMWorldConfig(
        seed=seed,
        freq=freq,
        periods=periods,
        channels=channels or 4 + seed % 3,
        shock=seed % 3 == 2,
    )


def observed_world(cfg, design: str | None):
    """The seeded world and, with a test ``design``, the tests run in it: one per channel,
    ``HOLDOUT_WEEKS`` long, in turn over the last year with two weeks between tests and the
    last eight weeks left clear; each reads out its true lift, over the test and the
    ``READOUT_WEEKS`` after it (the carry-over of what it changed), with a relative standard
    error of ``HOLDOUT_SE``.

    - ``market``: half of the channel's spend held back in the whole market (a matched-market
      test summed up: ``HOLDOUT_SHARE``). The world's data hold the cut, so its spend and KPI
      are lower in the window and its truth is that world's. The lift is the change the cut
      made: the response at the margin of the spend.
    - ``pair``: the agent's two designs for each channel (experiments.designs): the half-spend
      holdout of ``market``, and later (after every channel's holdout, so the two never share
      a read-out) a spend-up that raises the channel's spend by the same half. The data hold
      the raise, and its row is written as the product writes a spend-up's
      (experiments.readout.to_experiment): a ``holdout_share`` of the window's observed spend,
      the share the test added. The holdout reads the curve below today's spend, the spend-up
      above it: the bend between them.
    - ``audience``: a platform's randomised audience holdout (a conversion-lift study): the
      channel's spend goes on unchanged, and the lift is what the ads earned the exposed
      audience, scaled to the market: the whole incremental KPI of the channel's spend in
      the window. The world is not changed.

    Returns ``(world, tests)``: the world as observed and the tests' rows (the
    docs/contracts.md fields, plus the weekly spend without the test, ``change`` (the share of
    it the test took away, negative, or added) and the calibration row's arm: ``spend_delta``
    or ``holdout_share``). Both models fit that world; only the tests differ."""
    from marketing_ops.simulator.mmm_worlds import make_mmm_world, with_spend

    world = make_mmm_world(cfg)
    if design is None:
        return world, []
    names = world.spend_columns
    changes = {"market": [-HOLDOUT_SHARE], "pair": [-HOLDOUT_SHARE, HOLDOUT_SHARE]}.get(
        design, [-1.0]
    )
    slots = [(change, name) for change in changes for name in names]
    tests, observed = [], {}
    for k, (change, name) in enumerate(slots):
        spend = world.frame[name].to_numpy(float).reshape(cfg.geos, -1)
        start = _on_air(
            spend.sum(axis=0), cfg.periods - 8 - (HOLDOUT_WEEKS + 2) * (len(slots) - k) + 2
        )
        window = slice(start, start + HOLDOUT_WEEKS)
        weekly = spend[:, window].sum() / HOLDOUT_WEEKS  # without the test
        row = _test_row(world, name, start, change, cfg.seed * 10 + k)
        tests.append(row | {"weekly_spend": weekly, "change": change})
        if design != "audience":  # the market's data hold the test's spend
            changed = observed.get(name, spend).copy()
            changed[:, window] = spend[:, window] * (1 + change)
            observed[name] = changed
    return (with_spend(world, observed) if observed else world), tests


def _test_row(world, name: str, start: int, change: float, seed: int) -> dict:
    """One test's row with its true lift (the high arm's KPI minus the low arm's) read out
    with noise, and its calibration arm. A cut (``change`` < 0) is read on the world as it
    was: the low arm holds ``-change`` of the spend back; the data hold the low arm, so the
    row adds the spend back (``spend_delta``), except a whole holdout (``change`` -1, an
    audience holdout: the data hold the spend, the low arm none of it). A raise is read on
    the world with the raise: the low arm removes the share it added of the observed spend."""
    from marketing_ops.simulator.mmm_worlds import lift_tests as lift_row
    from marketing_ops.simulator.mmm_worlds import with_spend

    cfg = world.config
    if change > 0:
        raised = world.frame[name].to_numpy(float).reshape(cfg.geos, -1).copy()
        raised[:, start : start + HOLDOUT_WEEKS] *= 1 + change
        world, share = with_spend(world, {name: raised}), change / (1 + change)
    else:
        share = -change
    row = lift_row(
        world, name, start, HOLDOUT_WEEKS, share, HOLDOUT_SE, seed=seed, readout=READOUT_WEEKS
    )
    spend = world.frame[name].to_numpy(float).reshape(cfg.geos, -1)
    held = share * spend[:, start : start + HOLDOUT_WEEKS].sum()
    arm = {"spend_delta": held} if 0 < -change < 1 else {"holdout_share": share}
    return row | {"arm": arm}


def _on_air(spend, slot: int) -> int:
    """The test's first week: its slot, or the latest earlier start (within a year) whose
    weeks all have spend; a team does not hold out a channel that is off the air (the flighted
    channels are off for weeks at a time)."""
    for start in range(slot, max(slot - 52, 0), -1):
        if (spend[start : start + HOLDOUT_WEEKS] > 0).all():
            return start
    return slot


def _experiment(row: dict):
    """A test's calibration row (docs/contracts.md), as the product writes its own
    (experiments.readout.to_experiment): the arm :func:`_test_row` gave it."""
    from marketing_ops.forecasting.mmm.calibration import Experiment

    return Experiment(
        row["channel"],
        pd.Timestamp(row["start"]),
        pd.Timestamp(row["end"]),
        "holdout",
        row["lift"],
        row["standard_error"],
        name=f"{'spend-up' if row['change'] > 0 else 'holdout'}-{row['channel']}",
        readout_end=pd.Timestamp(row["readout_end"]),
        **row["arm"],
    )


def _anchor_lift_tests(tests: list[dict]) -> list[dict]:
    """The tests in PyMC-Marketing's lift-test format: per test, the weekly spend without the
    test (``x``), the change the test made (``delta_x``), the weekly change in the KPI
    (``delta_y``) and its standard error (``sigma``). Its calibration reads a test on the
    saturation curve without carry-over (its documented simplification): a week of the
    change in steady state, which the lift read out with its carry-over, per week of the
    test, approximates."""
    out = []
    for t in tests:
        x, sign = float(t["weekly_spend"]), np.sign(t["change"])
        out.append(
            {
                "channel": t["channel"],
                "x": x,
                "delta_x": x * t["change"],  # the share of the spend the test took or added
                "delta_y": sign * t["lift"] / HOLDOUT_WEEKS,
                "sigma": t["standard_error"] / HOLDOUT_WEEKS,
            }
        )
    return out


def true_mroas(world) -> dict[str, float]:
    """Per channel, the true return on 1 % more spend in every period of the history, per unit
    of that spend (channel_summary's marginal ROAS, on the ground truth)."""
    from marketing_ops.simulator.mmm_worlds import true_incremental

    out = {}
    for ch in world.channels:
        spend = world.frame[ch.name].to_numpy(float).reshape(world.config.geos, -1)
        more = true_incremental(ch, spend * 1.01, world.config.freq).sum()
        out[ch.name] = float(
            (more - true_incremental(ch, spend, world.config.freq).sum()) / (0.01 * spend.sum())
        )
    return out


def _counterfactual_intervals(cf: pd.DataFrame) -> dict:
    """``counterfactuals``' rows as multiplier -> channel -> [mean, lo, hi]."""
    return {
        str(m): {
            r.channel: [r.incremental, r.lo, r.hi] for r in cf[cf.multiplier == m].itertuples()
        }
        for m in (0.5, 1.5)
    }


def _fit_stats(fit, verdicts, started: float, cpu: float) -> dict:
    """What every worker reports of its fit: wall and CPU seconds since ``started`` / ``cpu``,
    peak memory, the convergence gate, and each experiment's verdict."""
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "converged": fit.diagnostics.ok,
        "reasons": fit.diagnostics.reasons,
        # the gate's reasons at the capped depth, when the fit was sampled again deeper
        "first_attempt": list(fit.diagnostics.first_attempt),
        "attempts": fit.diagnostics.attempts,
        "tests": [v.reason for v in verdicts],
    }


def _fit_world(args: dict) -> dict:
    """Worker: fit one world, return the scores (runs in its own process)."""
    from marketing_ops.forecasting.mmm import (
        Priors,
        SamplerSettings,
        channel_summary,
        counterfactuals,
        fit_mmm,
        mmm_data,
    )
    from marketing_ops.forecasting.mmm.calibration import calibrated_fit

    cfg = world_config(args["seed"], args["periods"], args["freq"], args.get("channels"))
    design = args.get("lift_tests")
    world, tests = observed_world(cfg, design)
    data = mmm_data(
        world.frame, "revenue", world.spend_columns, cfg.freq, controls=["price", "promo"]
    )
    priors = Priors(time_varying=cfg.shock, **args.get("priors", {}))
    sampler = SamplerSettings(warmup=args["warmup"], draws=args["draws"], **args.get("sampler", {}))
    started, cpu = time.perf_counter(), time.process_time()
    if tests:  # the product's path: each test quality-checked, the accepted ones in the fit
        rows = [_experiment(t) for t in tests]
        fit, verdicts = calibrated_fit(data, rows, priors, sampler)
    else:
        fit, verdicts = fit_mmm(data, priors, sampler), []
    summary, cf = channel_summary(fit).set_index("channel"), counterfactuals(fit)
    stats = _fit_stats(fit, verdicts, started, cpu)
    roas = {
        c: [summary.roas[c], summary.roas_lo[c], summary.roas_hi[c]] for c in world.spend_columns
    }
    mroas = {
        c: [summary.mroas[c], summary.mroas_lo[c], summary.mroas_hi[c]] for c in world.spend_columns
    }
    return {
        "roas": roas,
        "mroas": mroas,
        "truth_mroas": true_mroas(world),
        "counterfactual": _counterfactual_intervals(cf),
        **stats,
        "truth_roas": world.roas,
        "platform_roas": world.platform_roas(),
        "truth_cf": {
            str(m): {c: v[m] for c, v in world.counterfactual.items()} for m in (0.5, 1.5)
        },
    }


def _fit_demo_worker(args: dict) -> dict:
    """Worker: the demo-shape daily world through the forecasts asset's fit."""
    from marketing_ops.forecasting import load_forecast_settings
    from marketing_ops.forecasting.mmm.kpis import fit_channel_kpis
    from marketing_ops.simulator import hostile_world
    from marketing_ops.simulator.daily import simulate_daily

    kpis = simulate_daily(hostile_world("all_at_once")).kpis
    settings = load_forecast_settings()
    given = {k: args[k] for k in ("warmup", "draws") if args.get(k)}
    if given:  # the shipped sampler unless --warmup/--draws were given
        settings = settings.model_copy(update={"mmm": settings.mmm.model_copy(update=given)})
    started, cpu = time.perf_counter(), time.process_time()
    fit = fit_channel_kpis(kpis, settings).fit
    d = fit.diagnostics
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "converged": d.ok,
        "max_rhat": d.max_rhat,
        "min_ess": d.min_ess,
        "divergences": d.divergences,
        "warmup": settings.mmm.warmup,
        "draws": settings.mmm.draws,
        "worst": {k: [float(r), float(e)] for k, (r, e) in d.worst.items()},
        "channels": list(fit.data.channels),
        "load": os.getloadavg()[0],
    }


def market_truth(world, spend: dict, dates) -> dict:
    """Per channel of the product's market world, over ``dates`` (the fitted history) with
    ``spend`` per channel and day: true conversions at 1x, 1.01x, 0.5x and 1.5x the spend
    (incremental, seasonality, cost and response shocks included, carry-over from day 0 of the
    world, which starts the fitted history): channel_summary's and counterfactuals' definitions
    of ROAS, marginal ROAS and counterfactuals, on the truth."""
    days = [d.date() for d in dates]
    return {
        channel: {
            m: float(world.conversions_path(channel, m * x, days).sum())
            for m in (1.0, 1.01, 0.5, 1.5)
        }
        for channel, x in spend.items()
    }


def _fit_market_worker(args: dict) -> dict:
    """Worker: one two-year world of the product's own market simulator (the demo's, seeded;
    a hostile preset with ``world``) through the forecasts asset's ``fit_channel_kpis`` and
    the shipped settings, calibrated with ``--lift-tests audience`` on the market's past
    studies exactly as ``marketing-ops demo`` writes them; scored per 1,000 EUR (``PER``)."""
    from marketing_ops.forecasting import load_forecast_settings
    from marketing_ops.forecasting.mmm import Priors, channel_summary, counterfactuals
    from marketing_ops.forecasting.mmm.kpis import fit_channel_kpis
    from marketing_ops.simulator import WorldConfig, hostile_world, lift_studies
    from marketing_ops.simulator.daily import simulate_daily
    from marketing_ops.simulator.lift_studies import AD_CHANNELS, PAST_STUDIES

    seed, days = args["seed"], 730
    name = args.get("world") or "default"
    cfg = (
        WorldConfig(seed=seed, start=MARKET_START, days=days)
        if name == "default"
        else hostile_world(name, seed=seed, start=MARKET_START, days=days)
    )
    world = simulate_daily(cfg)
    end = cfg.start + timedelta(days=days - 1)
    studies = (
        lift_studies(world.ground_truth(), end, seed, prefix="bench", **PAST_STUDIES)
        if args.get("lift_tests") == "audience"
        else None
    )
    settings = load_forecast_settings()
    given = {k: args[k] for k in ("warmup", "draws") if args.get(k)}
    settings = settings.model_copy(
        update={"history_days": days, "mmm": settings.mmm.model_copy(update=given)}
    )
    started, cpu = time.perf_counter(), time.process_time()
    result = fit_channel_kpis(world.kpis, settings, studies, priors=Priors(**args["priors"]))
    fit = result.fit
    summary, cf = channel_summary(fit).set_index("channel"), counterfactuals(fit)
    stats = _fit_stats(fit, result.verdicts, started, cpu)
    channels = list(fit.data.channels)
    spend = {c: fit.data.spend[0, :, i] for i, c in enumerate(channels)}
    truth = market_truth(world.world, spend, fit.data.dates)
    scored = [c for c in channels if c in AD_CHANNELS]  # email's cost is nominal: apart
    total = {c: float(spend[c].sum()) / PER for c in channels}  # thousands of EUR
    per = summary[["roas", "roas_lo", "roas_hi", "mroas", "mroas_lo", "mroas_hi"]] * PER
    return {
        "roas": {c: [per.roas[c], per.roas_lo[c], per.roas_hi[c]] for c in channels},
        "mroas": {c: [per.mroas[c], per.mroas_lo[c], per.mroas_hi[c]] for c in scored},
        "truth_roas": {c: truth[c][1.0] / total[c] for c in scored},
        "truth_mroas": {c: (truth[c][1.01] - truth[c][1.0]) / (0.01 * total[c]) for c in scored},
        "counterfactual": _counterfactual_intervals(cf),
        "truth_cf": {str(m): {c: truth[c][m] for c in scored} for m in (0.5, 1.5)},
        "email": [per.roas["email"], truth["email"][1.0] / total["email"]]
        if "email" in channels
        else None,
        "base_share": 1.0 - float(summary.share_of_kpi.sum()),
        "true_base_share": 1.0 - sum(truth[c][1.0] for c in channels) / float(fit.data.kpi.sum()),
        **stats,
    }


def _fit_csv_worker(args: dict) -> dict:
    """Worker: fit a user CSV (the Meridian national file) and return ROAS with intervals."""
    from marketing_ops.forecasting.mmm import SamplerSettings, channel_summary, fit_mmm, load_csv

    data = load_csv(args["csv"], args["kpi"], args["channels"], args["freq"], args["controls"])
    started, cpu = time.perf_counter(), time.process_time()
    fit = fit_mmm(data, sampler=SamplerSettings(warmup=args["warmup"], draws=args["draws"]))
    s = channel_summary(fit).set_index("channel")
    return {
        "roas": {c: [s.roas[c], s.roas_lo[c], s.roas_hi[c]] for c in args["channels"]},
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "converged": fit.diagnostics.ok,
    }


def _run(cmd: list[str], payload: dict) -> dict:
    out = subprocess.run(
        [*cmd, json.dumps(payload)], capture_output=True, text=True, env=os.environ.copy()
    )
    if out.returncode != 0:
        return {
            "error": out.stderr.strip().splitlines()[-1]
            if out.stderr.strip()
            else f"exit {out.returncode}"
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_anchor_venv() -> Path:
    """Create benchmarks/.anchor-venv with PyMC-Marketing on first use; returns its python."""
    python = ANCHOR_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {ANCHOR_VENV} with {ANCHOR_PIN} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ANCHOR_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", ANCHOR_PIN], check=True)
    return python


def _anchor_world(python: Path, seed: int, args) -> dict:
    cfg = world_config(seed, args.periods)
    world, tests = observed_world(cfg, args.lift_tests)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "world.csv"
        world.frame.to_csv(csv, index=False)
        payload = {
            "csv": str(csv),
            "channels": world.spend_columns,
            "controls": ["price", "promo"],
            "kpi": "revenue",
            "l_max": 10,
            "chains": 2,
            "draws": args.draws,
            "tune": args.warmup,
            "seed": 0,
            "lift_tests": _anchor_lift_tests(tests),
        }
        return _run([str(python), str(HERE / "anchor_pymc_mmm.py")], payload)


def score(result: dict, truth_roas: dict, truth_cf: dict) -> dict:
    """Median absolute ROAS error, ROAS and counterfactual 80 % interval coverage."""
    if "error" in result:
        return {"error": result["error"]}
    errs = [abs(result["roas"][c][0] / truth_roas[c] - 1) for c in truth_roas]
    cover = [result["roas"][c][1] <= truth_roas[c] <= result["roas"][c][2] for c in truth_roas]
    cf_cover = [
        result["counterfactual"][m][c][1] <= truth_cf[m][c] <= result["counterfactual"][m][c][2]
        for m in truth_cf
        for c in truth_cf[m]
    ]
    return {
        "roas_err": float(np.median(errs)),
        "roas_cover": float(np.mean(cover)),
        "cf_cover": float(np.mean(cf_cover)),
        "n_roas": len(cover),
        "n_cf": len(cf_cover),
        "hits_roas": int(np.sum(cover)),
        "hits_cf": int(np.sum(cf_cover)),
        "errs": errs,
        "seconds": result["seconds"],
        "cpu_seconds": result["cpu_seconds"],
        "peak_mb": result["peak_mb"],
        "converged": result.get("converged", True),
        "reasons": result.get("reasons", []),
        "first_attempt": result.get("first_attempt", []),
        "attempts": result.get("attempts", 1),
        **_marginal(result),
    }


def _marginal(result: dict) -> dict:
    """Absolute error of the marginal ROAS (KPI per unit of the next 1 % of spend; relative
    errors blow up where a saturated channel's margin is near 0) and its 80 % coverage, for
    the fits that report it (ours)."""
    truth = result.get("truth_mroas")
    if not truth or "mroas" not in result:
        return {}
    got = result["mroas"]
    return {
        "mroas_errs": [abs(got[c][0] - truth[c]) for c in truth],
        "hits_mroas": sum(got[c][1] <= truth[c] <= got[c][2] for c in truth),
    }


def _fmt(s: dict) -> str:
    if "error" in s:
        return f"error: {s['error'][:60]}"
    conv = "" if s["converged"] else " NOT-CONVERGED (" + "; ".join(s["reasons"]) + ")"
    if s.get("first_attempt"):  # failed the gate at the capped depth, sampled again deeper
        conv += (
            f" attempt {s.get('attempts', 2)} (the first: " + "; ".join(s["first_attempt"]) + ")"
        )
    marginal = (
        f"mroas |err| {np.median(s['mroas_errs']):5.2f} cov {s['hits_mroas']}/{s['n_roas']}  "
        if "mroas_errs" in s
        else ""
    )
    return (
        f"err {s['roas_err']:6.1%}  roas-cov {s['hits_roas']}/{s['n_roas']}  cf-cov {s['hits_cf']}/{s['n_cf']}  "
        f"{marginal}{s['seconds']:6.0f}s wall {s['cpu_seconds']:6.0f}s cpu {s['peak_mb']:5.0f} MB{conv}"
    )


def _totals(label: str, rows: list[dict]) -> None:
    ok = [r for r in rows if "error" not in r]
    if not ok:
        print(f"{label:8s} no successful fits")
        return
    errs = [e for r in ok for e in r["errs"]]
    roas_cov = sum(r["hits_roas"] for r in ok) / sum(r["n_roas"] for r in ok)
    cf_cov = sum(r["hits_cf"] for r in ok) / sum(r["n_cf"] for r in ok)
    print(
        f"{label:8s} worlds {len(ok):3d}  median |ROAS err| {np.median(errs):6.1%}  ROAS 80% coverage {roas_cov:5.1%}  "
        f"0.5x/1.5x coverage {cf_cov:5.1%}  median fit {np.median([r['seconds'] for r in ok]):.0f}s wall / "
        f"{np.median([r['cpu_seconds'] for r in ok]):.0f}s cpu  peak {max(r['peak_mb'] for r in ok):.0f} MB  "
        f"converged {sum(r['converged'] for r in ok)}/{len(ok)}"
        f" ({sum(r['converged'] and not r.get('first_attempt') for r in ok)} at the first depth,"
        f" {sum(r['converged'] and r.get('attempts', 1) > 2 for r in ok)} from a new seed)"
    )
    marginal = [r for r in ok if "mroas_errs" in r]
    if marginal:
        merrs = [e for r in marginal for e in r["mroas_errs"]]
        mcov = sum(r["hits_mroas"] for r in marginal) / sum(r["n_roas"] for r in marginal)
        print(
            f"{'':8s} marginal ROAS (next 1 % of spend): median |err| {np.median(merrs):.3f}  "
            f"80% coverage {mcov:5.1%}"
        )


def _world_payload(seed: int, args) -> dict:
    return {
        "kind": "world",
        "seed": seed,
        "periods": args.periods,
        "freq": "W",
        "draws": args.draws,
        "warmup": args.warmup,
        "lift_tests": args.lift_tests,
        "priors": dict(_setting("Priors", p) for p in args.prior),
        "sampler": dict(_setting("SamplerSettings", p) for p in args.sampler),
    }


def _setting(kind: str, setting: str) -> tuple[str, float | str]:
    """``half_saturation_sigma=1.0`` (``--prior``), ``max_tree_depth=8`` or ``init=svi``
    (``--sampler``): a field of ``Priors`` / ``SamplerSettings`` and its value (a number
    when it reads as one; a whole number stays an int)."""
    from dataclasses import fields

    from marketing_ops.forecasting import mmm

    name, _, value = setting.partition("=")
    if name not in {f.name for f in fields(getattr(mmm, kind))}:
        raise SystemExit(f"{setting}: {name!r} is not a field of {kind}")
    for number in (int, float):
        try:
            return name, number(value)
        except ValueError:
            continue
    return name, value


def _ours(seeds, args):
    """(seed, result) of our fit on every world as each finishes, ``args.jobs`` at a time."""
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_run, me, _world_payload(seed, args)): seed for seed in seeds}
        for future in as_completed(futures):
            yield futures[future], future.result()


def bench_worlds(args) -> None:
    python = ensure_anchor_venv() if args.anchor else None
    ours_rows, anchor_rows, platform_errs = [], [], []
    for seed, res in _ours(range(args.worlds), args):
        if "error" in res:
            print(f"world {seed:3d} ours   error: {res['error']}", flush=True)
            ours_rows.append(res)
            continue
        s = score(res, res["truth_roas"], res["truth_cf"])
        ours_rows.append(s)
        perr = [abs(res["platform_roas"][c] / res["truth_roas"][c] - 1) for c in res["truth_roas"]]
        platform_errs += perr
        shock = " shock" if seed % 3 == 2 else ""
        tests = res.get("tests", [])
        taken = f"  tests accepted {tests.count('accepted')}/{len(tests)}" if tests else ""
        print(
            f"world {seed:3d}{shock:6s} ours   {_fmt(s)}  | platform err {np.median(perr):6.1%}"
            f"{taken}",
            flush=True,
        )
        for reason in (r for r in tests if r != "accepted"):
            print(f"          refused: {reason}", flush=True)
        if python:
            a = score(_anchor_world(python, seed, args), res["truth_roas"], res["truth_cf"])
            anchor_rows.append(a)
            print(f"world {seed:3d}{shock:6s} anchor {_fmt(a)}", flush=True)
    print()
    _totals("ours", ours_rows)
    if python:
        _totals("anchor", anchor_rows)
    print(f"platform-reported ROAS: median |err| {np.median(platform_errs):6.1%}")


def bench_market(args) -> None:
    """``--market N``: N seeds of the product's own market world (the demo's), each through
    the forecasts asset's fit; per channel the signed error of ROAS and marginal ROAS."""
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    payloads = {
        seed: {
            "kind": "market",
            "seed": seed,
            "world": args.market_world,
            "lift_tests": args.lift_tests,
            "priors": dict(_setting("Priors", p) for p in args.prior),
            "warmup": args.warmup if "--warmup" in sys.argv else None,
            "draws": args.draws if "--draws" in sys.argv else None,
        }
        for seed in range(MARKET_SEED, MARKET_SEED + args.market)
    }
    rows, signed = [], {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_run, me, p): seed for seed, p in payloads.items()}
        for future in as_completed(futures):
            seed, res = futures[future], future.result()
            if "error" in res:
                print(f"market {seed:3d} error: {res['error']}", flush=True)
                rows.append(res)
                continue
            s = score(res, res["truth_roas"], res["truth_cf"])
            rows.append(s)
            tests = res.get("tests", [])
            taken = f"  tests accepted {tests.count('accepted')}/{len(tests)}" if tests else ""
            print(f"market {seed:3d} {_fmt(s)}{taken}", flush=True)
            parts = []
            for c, truth in res["truth_roas"].items():
                got, lo, hi = res["roas"][c]
                m, mlo, mhi = res["mroas"][c]
                mt = res["truth_mroas"][c]
                signed.setdefault(c, []).append((got / truth - 1, m / mt - 1))
                parts.append(
                    f"{c} ROAS {got:.1f} [{lo:.1f}, {hi:.1f}] vs {truth:.1f}, "
                    f"margin {m:.1f} [{mlo:.1f}, {mhi:.1f}] vs {mt:.1f}"
                )
            email = res.get("email")
            if email:
                parts.append(f"email ROAS {email[0]:.1f} vs {email[1]:.0f}")
            parts.append(f"base {res['base_share']:.0%} vs {res['true_base_share']:.0%}")
            print("           " + "; ".join(parts) + " (conversions per 1,000 EUR)", flush=True)
    print()
    _totals("market", rows)
    for c, errs in signed.items():
        roas, margin = zip(*errs, strict=True)
        print(
            f"{'':8s} {c}: median signed error ROAS {np.median(roas):+.0%}, "
            f"marginal ROAS {np.median(margin):+.0%} over {len(errs)} worlds"
        )


def bench_meridian(args) -> None:
    channels = [f"Channel{i}_spend" for i in range(4)]
    controls = ["competitor_activity_score_control", "sentiment_score_control"]
    payload = {
        "kind": "csv",
        "csv": str(MERIDIAN),
        "kpi": "conversions*revenue_per_conversion",
        "channels": channels,
        "controls": controls,
        "freq": "W",
        "draws": args.draws,
        "warmup": args.warmup,
    }
    ours = _run([sys.executable, str(Path(__file__).resolve()), "--worker"], payload)
    rows = {"ours": ours}
    if args.anchor:
        frame = pd.read_csv(MERIDIAN).rename(columns={"time": "date"})
        frame["revenue"] = frame.conversions * frame.revenue_per_conversion
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "meridian.csv"
            frame.to_csv(csv, index=False)
            rows["anchor"] = _run(
                [str(ensure_anchor_venv()), str(HERE / "anchor_pymc_mmm.py")],
                {
                    "csv": str(csv),
                    "channels": channels,
                    "controls": controls,
                    "kpi": "revenue",
                    "l_max": 10,
                    "chains": 2,
                    "draws": args.draws,
                    "tune": args.warmup,
                    "seed": 0,
                },
            )
    print(
        "\nMeridian national_media.csv (revenue = conversions x revenue_per_conversion; no ground truth)"
    )
    for label, r in rows.items():
        if "error" in r:
            print(f"  {label:7s} error: {r['error']}")
            continue
        roas = "  ".join(
            f"{c.split('_')[0]} {v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]" for c, v in r["roas"].items()
        )
        print(
            f"  {label:7s} {roas}  {r['seconds']:.0f}s wall {r['cpu_seconds']:.0f}s cpu {r['peak_mb']:.0f} MB"
        )


def bench_daily(args) -> None:
    res = _run(
        [sys.executable, str(Path(__file__).resolve()), "--worker"],
        {
            "kind": "world",
            "seed": 100,
            "periods": 730,
            "freq": "D",
            "channels": 6,
            "draws": args.draws,
            "warmup": args.warmup,
        },
    )
    s = (
        score(res, res.get("truth_roas", {}), res.get("truth_cf", {}))
        if "error" not in res
        else res
    )
    print(f"\ntwo-year daily fit, 6 channels: {_fmt(s)}")


def bench_demo(args) -> None:
    given = set(sys.argv)
    payload = {
        "kind": "demo",
        "warmup": args.warmup if "--warmup" in given else None,
        "draws": args.draws if "--draws" in given else None,
    }
    r = _run([sys.executable, str(Path(__file__).resolve()), "--worker"], payload)
    if "error" in r:
        print(f"\ndemo-shape daily fit: error: {r['error']}")
        return
    verdict = "converged" if r["converged"] else "NOT converged"
    print(
        f"\ndemo-shape daily fit (hostile all_at_once, 730 days, {len(r['channels'])} channels, "
        f"{r['warmup']} + {r['draws']} draws x chains of forecasting.yaml): {verdict} (R-hat {r['max_rhat']:.3f}, min ESS {r['min_ess']:.0f}, "
        f"{r['divergences']} divergences)  {r['seconds']:.0f}s wall {r['cpu_seconds']:.0f}s cpu "
        f"{r['peak_mb']:.0f} MB  load {r['load']:.1f}"
    )
    worst = "  ".join(f"{k} {rh:.3f}/{ess:.0f}" for k, (rh, ess) in r["worst"].items())
    print(f"  worst sites (R-hat / bulk ESS): {worst}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        payload = json.loads(sys.argv[2])
        worker = {
            "world": _fit_world,
            "demo": _fit_demo_worker,
            "csv": _fit_csv_worker,
            "market": _fit_market_worker,
        }[payload["kind"]]
        print(json.dumps(worker(payload), default=float))
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--worlds", type=int, default=6)
    p.add_argument("--periods", type=int, default=156)
    p.add_argument("--draws", type=int, default=500)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--anchor", action="store_true", help="also fit PyMC-Marketing (own venv)")
    p.add_argument("--meridian", action="store_true", help="also fit the Meridian national file")
    p.add_argument(
        "--daily", action="store_true", help="also time a two-year daily fit of 6 channels"
    )
    p.add_argument("--demo", action="store_true", help="also fit the demo-shape daily world")
    p.add_argument(
        "--market",
        type=int,
        default=0,
        metavar="N",
        help="also fit N seeds (7, 8, ...) of the product's own two-year market world through "
        "the forecasts asset's fit (with --lift-tests audience: the demo's past studies)",
    )
    p.add_argument(
        "--market-world",
        default=None,
        help="a hostile preset for --market (simulator.HOSTILE_WORLDS); default the demo's",
    )
    p.add_argument("--study", action="store_true", help="coverage study: cheaper sampler, 2 jobs")
    p.add_argument("--jobs", type=int, default=None, help="worlds fitted at a time")
    p.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set a numeric field of our model's Priors for the worlds (repeatable), e.g. "
        "half_saturation_sigma=1.0",
    )
    p.add_argument(
        "--sampler",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set a field of our SamplerSettings for the worlds (repeatable), e.g. "
        "max_tree_depth=8 or init=svi",
    )
    p.add_argument(
        "--lift-tests",
        choices=("market", "pair", "audience"),
        default=None,
        help="run tests in each world (market: half of each channel's spend held back in the "
        "whole market; pair: that holdout and a spend-up of the same half per channel; "
        "audience: a platform's randomised audience holdout per channel); both models "
        "calibrate on them",
    )
    args = p.parse_args()
    if args.market and args.lift_tests not in (None, "audience"):
        p.error("--market takes --lift-tests audience (the market's past studies) or none")
    if args.study:
        given = set(sys.argv)
        args.warmup = args.warmup if "--warmup" in given else STUDY_SAMPLER
        args.draws = args.draws if "--draws" in given else STUDY_SAMPLER
    args.jobs = args.jobs or (2 if args.study else 1)
    if args.worlds:
        bench_worlds(args)
    if args.meridian:
        bench_meridian(args)
    if args.daily:
        bench_daily(args)
    if args.demo:
        bench_demo(args)
    if args.market:
        bench_market(args)


if __name__ == "__main__":
    main()
