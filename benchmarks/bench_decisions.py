"""Budget plans against the oracle on the simulator's hostile worlds: how much of the best
possible uplift the agent captures, deciding on the media mix model or on attributed curves.

    .venv/bin/python benchmarks/bench_decisions.py [--worlds NAME ...] [--days 730]
        [--models mmm attributed] [--warmup 300 --draws 300 --chains 2 --seed 0] [--shifts 30 100]
        [--lift-tests --holdout-share 0.3 --test-days 28 --lift-se 0.15 --readout-days 0
         --tail-rows --tail-se own]

Worlds: :func:`marketing_ops.simulator.hostile_worlds` (over-claiming platforms, last click
skewed to search, a long carry-over channel, a saturated channel, a mid-history response
shock on paid social, all at once), each drawn by ``generate_history`` (the full market:
sessions, deals, platform reports, ground truth). The agent decides as of the last day, and in
the worlds with a shock also before it (the scored days end the day before the shock) and six weeks after it.

What the agent sees, per day (``marts.fct_channel_kpis_daily``-shaped): spend per channel,
and conversions and revenue per channel as LAST CLICK measures them: the day's business
conversions (ground truth), with the world's search capture applied (each conversion of
another channel arrives through a brand-search click with that probability, as the market's
``last_click`` does). Platform claims (over-claiming) are not in it: neither model reads them.
With ``plan_level: campaign`` it also sees ``fct_ad_spend_daily`` / ``fct_conversions`` rows
per campaign (spend by the platforms' campaign shares; conversions split by them, captured
ones on the brand search campaign).

The plan is built by the SAME functions as the assets: ``response_model: mmm`` runs the
response_curves asset's MMM path (``forecasting.mmm.kpis.fit_channel_kpis`` then
``curve_rows``: a fit that did not converge writes no curves, so no decision: reported as
BLOCKED, and scored "as if" from the same posterior for information); ``attributed`` runs its
attributed path (``fit_response_curves`` on the demand index). The seasonal index is the
demand index's (``seasonal_index_rows``), and ``decisioning.decide`` plans on the default
policy files (max shift 30 %, then lifted to 100 %), at channel and at campaign level.

``--lift-tests`` calibrates the MMM as the product does with ``settings/experiments.csv``
(``fit_channel_kpis(..., experiments)``: each test quality-checked, then a likelihood term):
before each decision day, one holdout test per paid channel, ``--test-days`` long, the
channels' windows one after the other and the last ending two weeks before the decision, each
cutting ``--holdout-share`` of the channel's spend (``--test-design pulse``: adding that share;
``both``: a holdout and a pulse per channel). Its lift is the simulator's true lift
(``GroundTruth.spend_lift``: the conversions the change moves over its own window) plus
normal noise with a standard error of ``--lift-se`` times it. With ``--readout-days N`` each
test is read out N days past its end (the experiment's ``readout_end``: the lift includes the
change's carry-over after the test); the windows move back so that the last read-out still
ends two weeks before the decision. With ``--tail-rows`` (and ``--readout-days N``) each test
reports two rows instead of one summed row: its lift over its own days, and its tail alone
(``lift_start`` = the day after its end, ``readout_end`` N days later), each with the noise of
``--lift-se`` times its own true lift (``--tail-se test``: the tail row's standard error is the
in-test row's, the same arms' day-to-day noise over as many days, not a share of its smaller
lift). The model is then reported as ``mmm+tests``; each row
gives the fitted (posterior median) and true daily decay of every paid channel.

Scoring, on the simulator's truth for the week after the decision (true curves, carry-over,
seasonality and the response shock, no noise), measured in the same run (with
``--carryover-days N`` the week's split is valued over the week and N more days with the
split's daily spend going on (the following weeks held at the plan), scaled to one week, by
the plan (the budget policy's ``carryover_days``) and by the score alike; ``auto``, the
policy's default: the days the plan chose, 28 when the fit's accepted tests include a tail row
for every paid channel, else 0, each row scored with its own):

* baseline: keeping last week's split of the same total;
* oracle: the split of the same total that maximises TRUE revenue within the same max shift;
* ``capture = (plan - baseline) / (oracle - baseline)``.

Campaign plans are scored by their channel totals (the market splits a channel's conversions
over its campaigns by fixed shares, so within a channel the split does not change true
revenue; the campaign oracle is the channel oracle). Guardrails: the total is kept, no
channel moves more than the max shift, and what goes ahead without a person (plus last
week's amount of what waits) stays within the total. "never worse" = plan >= baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("MARKETING_OPS_DEMO", "1")

PAID = ("paid_search", "display", "paid_social")
BRAND_SEARCH = "9000000101"
AFTER_SHOCK_DAYS = 42
PLAN_DAYS = 7  # the plan week the score counts
SIGNALS = [{"name": "simulator ground truth, measured by last click", "data_version": "bench"}]


@dataclass
class World:
    name: str
    config: object  # WorldConfig
    truth: object  # GroundTruth
    kpis: pd.DataFrame  # what last click measures, every channel, every day
    ad_spend: pd.DataFrame  # per campaign
    conversions: pd.DataFrame  # one row per measured conversion of a paid campaign


def build_world(name: str, config) -> World:
    from marketing_ops.config import data_home
    from marketing_ops.simulator import generate_history, load_ground_truth

    root = Path(tempfile.mkdtemp(prefix=f"mo-bench-dec-{name}-"))
    try:  # the world's files are read into memory; ~300 MB a world is not left in /tmp
        home = data_home(root).ensure()
        generate_history(home, config)
        truth = load_ground_truth(home)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    hostility = config.hostility
    capture = hostility.search_capture if hostility else 0.0
    rng = np.random.default_rng([config.seed, 99])
    kpis = last_click_kpis(truth.daily, capture, rng)
    ad_spend, conversions = campaign_frames(truth.daily, capture, rng)
    return World(name, config, truth, kpis, ad_spend, conversions)


def last_click_kpis(daily: pd.DataFrame, capture: float, rng) -> pd.DataFrame:
    """Per day and channel: spend, and conversions and revenue as last click credits them."""
    k = daily.rename(columns={"date": "date_day"})[
        ["date_day", "channel", "spend", "conversions", "revenue"]
    ].copy()
    k["date_day"] = pd.to_datetime(k["date_day"])
    k["conversions"] = k["conversions"].astype(int)
    if capture <= 0:
        return k
    other = k["channel"] != "paid_search"
    moved = np.zeros(len(k), dtype=int)
    moved[other.to_numpy()] = rng.binomial(k.loc[other, "conversions"].to_numpy(), capture)
    per_conv = k["revenue"] / k["conversions"].where(k["conversions"] > 0, 1)
    moved_rev = moved * per_conv
    k["captured"], k["captured_revenue"] = moved, moved_rev
    gained = k.groupby("date_day")[["captured", "captured_revenue"]].sum()
    k["conversions"] -= moved
    k["revenue"] -= moved_rev
    search = k["channel"] == "paid_search"
    k.loc[search, "conversions"] += gained.loc[k.loc[search, "date_day"], "captured"].to_numpy()
    k.loc[search, "revenue"] += gained.loc[k.loc[search, "date_day"], "captured_revenue"].to_numpy()
    return k.drop(columns=["captured", "captured_revenue"])


def campaign_frames(daily: pd.DataFrame, capture: float, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``fct_ad_spend_daily`` and ``fct_conversions`` rows of the paid campaigns."""
    from marketing_ops.simulator.world import CAMPAIGNS

    spend_rows, conv_rows = [], []
    for r in daily[daily["channel"].isin(PAID)].itertuples():
        camps = CAMPAIGNS[r.channel]
        shares = np.array([c[2] for c in camps])
        for cid, _, share in camps:
            spend_rows.append((r.date, r.channel, cid, r.spend * share))
        n = int(r.conversions)
        if not n:
            continue
        value = r.revenue / n
        captured = rng.binomial(n, capture) if r.channel != "paid_search" else 0
        for k, count in enumerate(rng.multinomial(n - captured, shares / shares.sum())):
            conv_rows += [(r.date, r.channel, camps[k][0], value)] * int(count)
        conv_rows += [(r.date, "paid_search", BRAND_SEARCH, value)] * int(captured)
    ad_spend = pd.DataFrame(spend_rows, columns=["date_day", "channel", "campaign_id", "spend"])
    conversions = pd.DataFrame(conv_rows, columns=["date_day", "channel", "campaign_id", "revenue"])
    return ad_spend, conversions


def decision_days(world: World, tail: int = 0) -> list[tuple[str, date]]:
    """When the plans are made: the last day; in a shocked world also before the shock and
    six weeks after it. "Before" is early enough that the scored days (the plan week and
    ``tail`` days of carry-over) end the day before the shock: a decision the day before it,
    scored on the week after it, would be scored on a change no model of the past can know
    (the oracle knows it), which is foresight, not measurement."""
    cfg = world.config
    end = cfg.start + timedelta(days=cfg.days - 1)
    shock = cfg.hostility.response_shock if cfg.hostility else None
    if shock is None:
        return [("end", end)]
    at = cfg.start + timedelta(days=shock.day)
    return [
        ("before shock", at - timedelta(days=1 + PLAN_DAYS + tail)),
        (f"shock +{AFTER_SHOCK_DAYS}d", at + timedelta(days=AFTER_SHOCK_DAYS - 1)),
        ("end (post-shock)", end),
    ]


def lift_tests(
    world: World,
    as_of: date,
    share: float,
    days: int,
    rel_se: float,
    design: str = "holdout",
    readout: int = 0,
    tail_rows: bool = False,
    tail_se: str = "own",
) -> list:
    """Lift tests of every paid channel before ``as_of``, each read out ``readout`` days past
    its end, as one row or (``tail_rows``) as its in-test and its tail rows: the simulator's
    :func:`marketing_ops.simulator.lift_studies` (see the module's docstring)."""
    from marketing_ops.simulator import lift_studies

    return lift_studies(
        world.truth,
        as_of,
        world.config.seed,
        share,
        days,
        rel_se,
        design,
        readout,
        tail_rows,
        tail_se,
        PAID,
        prefix="bench",
    )


# ---------------------------------------------------------------- curves, as the assets make them


def mmm_curves(
    kpis: pd.DataFrame, as_of: date, settings, experiments=None
) -> tuple[pd.DataFrame, dict]:
    """The response_curves asset's MMM path; BLOCKED when the fit did not converge (the
    ungated curves of the same posterior come back for an "as if" score)."""
    from marketing_ops.forecasting.mmm.curves import mmm_response_frame
    from marketing_ops.forecasting.mmm.kpis import (
        FIT_TAG,
        curve_rows,
        fit_channel_kpis,
        mmm_model_version,
        verdict_records,
    )

    t0 = time.perf_counter()
    result = fit_channel_kpis(kpis, settings, experiments)
    version = mmm_model_version(settings)
    fit = result.fit
    rows = curve_rows(
        fit, result.value_per_conversion, as_of, version, settings.mmm.curve_draws, result.version
    )
    d = fit.diagnostics
    info = {
        "converged": bool(d.ok),
        "max_rhat": float(d.max_rhat),
        "min_ess": float(d.min_ess),
        "fit_s": time.perf_counter() - t0,
        "fit_version": result.version[:12],
        "tests": "; ".join(
            f"{v.experiment.channel} {'accepted' if v.accepted else 'REJECTED: ' + v.reason}"
            for v in result.verdicts
        ),
        # as the decision asset reads them from the ledger (budget.carryover_days: auto)
        "verdicts": verdict_records(result),
    }
    if rows.empty:  # blocked: what the same posterior would have planned
        tagged = f"{version}{FIT_TAG}{result.version}"
        rows = mmm_response_frame(
            fit, as_of, tagged, result.value_per_conversion, settings.mmm.curve_draws
        )
    return rows, info


def attributed_curves(kpis: pd.DataFrame, as_of: date, settings) -> tuple[pd.DataFrame, dict]:
    """The response_curves asset's attributed path (adstock + Hill on the demand index)."""
    from marketing_ops.forecasting import (
        demand_index,
        fit_response_curves,
        response_frame,
        response_model_version,
    )

    t0 = time.perf_counter()
    index = demand_index(kpis, as_of, settings.horizon_days, settings)
    fitted = fit_response_curves(kpis, index, settings)
    rows = response_frame(fitted, as_of, response_model_version(settings))
    return rows, {"converged": True, "fit_s": time.perf_counter() - t0}


def seasonal_rows(kpis: pd.DataFrame, as_of: date, settings) -> pd.DataFrame:
    from marketing_ops.forecasting import demand_index, seasonal_index_rows

    index = demand_index(kpis, as_of, settings.horizon_days, settings)
    return seasonal_index_rows(index, kpis["channel"].unique(), as_of, "bench")


# ---------------------------------------------------------------- one decision, scored


def decide_batch(
    world: World, as_of: date, curves, forecasts, policies, verdicts=()
) -> pd.DataFrame:
    from marketing_ops.decisioning import AutonomyState, decide
    from marketing_ops.decisioning.decide import DecisionInputs

    cut = pd.Timestamp(as_of)
    kpis = world.kpis[world.kpis["date_day"] <= cut]
    start = (cut - pd.Timedelta(days=policies.budget.campaign_history_days)).date().isoformat()
    window = lambda f: f[(f["date_day"] > start) & (f["date_day"] <= as_of.isoformat())]  # noqa: E731
    empty = pd.DataFrame()
    inputs = DecisionInputs(
        kpis,
        curves,
        forecasts,
        empty,
        empty,
        window(world.ad_spend),
        window(world.conversions),
        pd.DataFrame(list(verdicts)),
    )
    return decide(as_of, inputs, policies, AutonomyState(), SIGNALS).batch


def guardrails(budget: pd.DataFrame, last: dict[str, float], shift: float) -> list[str]:
    """Broken guardrails, in words (empty when all held)."""
    out = []
    total = sum(last.values())
    tol = 1e-3 * total
    amounts = budget.groupby("channel")["amount"].sum()
    if abs(float(amounts.sum()) - total) > tol:
        out.append(f"total {amounts.sum():,.0f} != {total:,.0f}")
    for c in PAID:
        a = float(amounts.get(c, 0.0))
        if not last[c] * (1 - shift / 100) - tol <= a <= last[c] * (1 + shift / 100) + tol:
            out.append(f"{c} moved beyond {shift:g} %")
    scores = [json.loads(r)["scores"] for r in budget["rationale"]]
    ahead = budget["status"].isin(("approved", "executed")).to_numpy()
    spend_now = sum(
        float(a) if go else float(s.get("last_period_amount") or 0.0)
        for a, go, s in zip(budget["amount"], ahead, scores, strict=True)
    )
    if spend_now > float(scores[0]["plan_total_budget"]) + tol:
        out.append("what goes ahead without approval exceeds the total")
    waiting = budget[budget["status"] == "pending_approval"]
    for r in waiting["rationale"]:
        if not json.loads(r)["autonomy"]["waits_for_approval_because"]:
            out.append("a line waits without a reason")
    return out


def score(world: World, as_of: date, budget: pd.DataFrame, shift: float, tail: int = 0) -> dict:
    truth, nxt = world.truth, as_of + timedelta(days=1)
    seen = world.kpis[
        (world.kpis["date_day"] > pd.Timestamp(as_of) - pd.Timedelta(days=7))
        & (world.kpis["date_day"] <= pd.Timestamp(as_of))
    ]
    last = {c: float(seen.loc[seen["channel"] == c, "spend"].sum()) for c in PAID}
    total = sum(last.values())
    amounts = {c: float(budget.loc[budget["channel"] == c, "amount"].sum()) for c in PAID}
    bounds = {c: (last[c] * (1 - shift / 100), last[c] * (1 + shift / 100)) for c in PAID}
    oracle = truth.oracle_allocation(total, 7, nxt, bounds, tail)
    r_last = truth.expected_revenue(last, nxt, 7, tail)
    r_plan = truth.expected_revenue(amounts, nxt, 7, tail)
    r_oracle = truth.expected_revenue(oracle, nxt, 7, tail)
    uplift = r_oracle - r_last
    return {
        "capture": (r_plan - r_last) / uplift if uplift > 1e-6 else math.nan,
        "oracle uplift": uplift,
        "plan - keep": r_plan - r_last,
        "never worse": r_plan >= r_last - 1e-6 * r_last,
        "guardrails": guardrails(budget, last, shift),
        "split": " / ".join(
            f"{c} {last[c]:,.0f}->{amounts[c]:,.0f} (oracle {oracle[c]:,.0f})" for c in PAID
        ),
    }


def policies_for(home_dir: Path, shift: float, level: str, tail: int | str = 0):
    from marketing_ops.decisioning import ensure_default_policies, load_policies

    ensure_default_policies(home_dir)
    p = load_policies(home_dir)
    budget = p.budget.model_copy(
        update={"max_shift_pct": shift, "plan_level": level, "carryover_days": tail}
    )
    return p.model_copy(update={"budget": budget})


def cached_curves(cache: Path | None, key: str, make, *args) -> tuple[pd.DataFrame, dict]:
    """Curve rows and fit info, from ``cache`` when this world, day and model were fitted
    before with the same settings (re-plan without refitting), else fitted and stored."""
    if cache is None:
        return make(*args)
    rows_path, info_path = cache / f"{key}.csv", cache / f"{key}.json"
    if rows_path.exists() and info_path.exists():
        rows = pd.read_csv(rows_path)
        rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
        return rows, json.loads(info_path.read_text())
    rows, info = make(*args)
    cache.mkdir(parents=True, exist_ok=True)
    rows.to_csv(rows_path, index=False)
    info_path.write_text(json.dumps(info))
    return rows, info


def fitted_decay(world: World, curves: pd.DataFrame) -> str:
    """Posterior median daily decay of each paid channel's curve, and the world's true one."""
    if "decay" not in curves:
        return ""
    return " / ".join(
        f"{c} {curves.loc[curves['channel'] == c, 'decay'].median():.2f} "
        f"(true {world.truth.curves[c].decay:.2f})"
        for c in PAID
        if (curves["channel"] == c).any()
    )


def run_world(
    world: World,
    models,
    shifts,
    settings,
    policy_dir: Path,
    cache: Path | None = None,
    tests: dict | None = None,
    tail: int | str = 0,
) -> list[dict]:
    """``tests``: the ``lift_tests`` arguments (share, days, rel_se) for ``mmm+tests``;
    ``tail``: days of carry-over after the week the plan and the score count (``auto``: the
    plan's own choice, :func:`decisioning.decide.carryover_of`, scored with the same days;
    the "before shock" day then leaves room for the longest, ``AUTO_CARRYOVER_DAYS``)."""
    from marketing_ops.decisioning.decide import AUTO_CARRYOVER_DAYS
    from marketing_ops.forecasting.mmm.kpis import model_code_hash

    out = []
    m = settings.mmm
    # the model's code (its sampler's retry rules included): a cache from other code refits
    code = model_code_hash()[:12]
    for when, as_of in decision_days(world, AUTO_CARRYOVER_DAYS if tail == "auto" else tail):
        kpis = world.kpis[world.kpis["date_day"] <= pd.Timestamp(as_of)]
        forecasts = seasonal_rows(kpis, as_of, settings)
        for model in models:
            key = f"{world.name}-{as_of}-{model}-{m.warmup}-{m.draws}-{m.chains}-{m.seed}"
            key += "" if model == "attributed" else f"-{code}"
            args = (kpis, as_of, settings)
            if model == "attributed":
                make = attributed_curves
            elif model == "mmm+tests":
                make, args = mmm_curves, (*args, lift_tests(world, as_of, **tests))
                key += "-{share}-{days}-{rel_se}-{design}".format(**tests)
                key += f"-r{tests['readout']}" if tests.get("readout") else ""
                if tests.get("tail_rows") and tests.get("readout"):
                    key += "-tail" + ("-se-test" if tests.get("tail_se") == "test" else "")
            else:
                make = mmm_curves
            curves, info = cached_curves(cache, key, make, *args)
            decay = fitted_decay(world, curves)
            for shift in shifts:
                for level in ("channel", "campaign"):
                    policies = policies_for(policy_dir, shift, level, tail)
                    batch = decide_batch(
                        world, as_of, curves, forecasts, policies, info.get("verdicts", ())
                    )
                    budget = batch[batch["action_type"] == "budget_allocation"]
                    days = json.loads(budget["rationale"].iloc[0])["carryover"]["days"]
                    row = score(world, as_of, budget, shift, days)
                    out.append(
                        {
                            "world": world.name,
                            "when": when,
                            "model": model,
                            "shift": f"{shift:g}%",
                            "level": level,
                            **row,
                            "carryover": days,
                            "gate": "ok" if info["converged"] else "BLOCKED",
                            "decay": decay,
                            **{k: v for k, v in info.items() if k not in ("converged", "verdicts")},
                        }
                    )
                    print(_line(out[-1]), flush=True)
    return out


def _line(r: dict) -> str:
    g = "held" if not r["guardrails"] else "BROKEN: " + "; ".join(r["guardrails"])
    return (
        f"{r['world']:<24} {r['when']:<17} {r['model']:<10} {r['shift']:>4} {r['level']:<8} "
        f"tail {r['carryover']:>2}d  capture {r['capture']:7.1%}  uplift {r['oracle uplift']:>8,.0f}  plan-keep "
        f"{r['plan - keep']:>+8,.0f}  never-worse {'yes' if r['never worse'] else 'NO '}  "
        f"guardrails {g}  gate {r['gate']}"
        + (f" (R-hat {r['max_rhat']:.2f}, ESS {r['min_ess']:.0f})" if "max_rhat" in r else "")
        + f"  fit {r['fit_s']:.0f}s"
        + (f"  tests: {r['tests']}" if r.get("tests") else "")
    )


def summary(frame: pd.DataFrame) -> None:
    print("\nCapture of the oracle's uplift (min / mean over decision days), per world")
    for (model, shift, level), g in frame.groupby(["model", "shift", "level"], sort=False):
        print(f"\n{model}, max shift {shift}, {level} level:")
        for world, w in g.groupby("world", sort=False):
            caps = ", ".join(f"{r.when} {r.capture:.0%}" for r in w.itertuples())
            print(f"  {world:<24} {caps}")
        ok = g["capture"].min() >= 0.9
        held = all(not x for x in g["guardrails"])
        print(
            f"  min {g['capture'].min():.1%}, mean {g['capture'].mean():.1%}; >= 90 % everywhere: "
            f"{'PASS' if ok else 'FAIL'}; guardrails {'held' if held else 'BROKEN'}; never "
            f"worse than keeping the split: {'yes' if g['never worse'].all() else 'NO'}; "
            f"fits blocked by the gate: {(g['gate'] == 'BLOCKED').sum()}/{len(g)}"
        )


def main() -> None:
    from marketing_ops.simulator import HOSTILE_WORLDS, hostile_worlds

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", nargs="*", default=list(HOSTILE_WORLDS))
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--models", nargs="*", default=["mmm", "attributed"])
    parser.add_argument("--shifts", nargs="*", type=float, default=[30.0, 100.0])
    parser.add_argument("--warmup", type=int, default=None, help="MMM sampler (forecasting.yaml)")
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--chains", type=int, default=None)
    parser.add_argument(
        "--seed", type=int, default=None, help="MMM sampler seed (forecasting.yaml)"
    )
    parser.add_argument(
        "--lift-tests",
        action="store_true",
        help="also decide on the MMM calibrated by one holdout test per paid channel (mmm+tests)",
    )
    parser.add_argument("--holdout-share", type=float, default=0.3)
    parser.add_argument("--test-days", type=int, default=28)
    parser.add_argument("--lift-se", type=float, default=0.15, help="standard error / true lift")
    parser.add_argument(
        "--readout-days",
        type=int,
        default=0,
        help="read each test out this many days past its end (its carry-over after the test); "
        "the last read-out ends two weeks before the decision",
    )
    parser.add_argument(
        "--tail-rows",
        action="store_true",
        help="with --readout-days N: each test reports its lift over its own days and its tail "
        "(the N days after its end) as two rows instead of one summed row",
    )
    parser.add_argument(
        "--tail-se",
        choices=["own", "test"],
        default="own",
        help="with --tail-rows: the tail row's standard error is --lift-se times its own true "
        "lift, or the in-test row's (the same arms' noise over as many days)",
    )
    parser.add_argument(
        "--test-design",
        choices=["holdout", "pulse", "both"],
        default="holdout",
        help="cut --holdout-share of the spend, add that share (a pulse), or one of each",
    )
    parser.add_argument(
        "--carryover-days",
        type=lambda v: v if v == "auto" else int(v),
        default=0,
        help="days after the week that the plan (budget policy carryover_days) and the score "
        "count, the split's daily spend going on over them; 0: the week alone; auto: the "
        "policy's default, 28 when the fit's accepted tests measured every channel's decay "
        "(tail rows), else 0",
    )
    parser.add_argument("--out", default=None, help="write the rows as CSV here")
    parser.add_argument(
        "--cache",
        default=None,
        help="keep fitted curves here; a re-run re-plans without refits (keyed by world, day, "
        "sampler settings and the model's code: a change to the model refits)",
    )
    args = parser.parse_args()

    from marketing_ops.forecasting import load_forecast_settings, quiet_logs

    quiet_logs()
    settings = load_forecast_settings()
    sampler = {
        k: v
        for k, v in (
            ("warmup", args.warmup),
            ("draws", args.draws),
            ("chains", args.chains),
            ("seed", args.seed),
        )
        if v is not None
    }
    settings = settings.model_copy(update={"mmm": settings.mmm.model_copy(update=sampler)})
    m = settings.mmm
    print(
        f"MMM sampler: warmup {m.warmup}, draws {m.draws}, chains {m.chains}, seed {m.seed}, "
        "curve draws "
        f"{m.curve_draws}; {args.days} days of history; worlds {', '.join(args.worlds)}\n"
    )
    presets = hostile_worlds(days=args.days)
    policy_dir = Path(tempfile.mkdtemp(prefix="mo-bench-dec-policies-"))
    rows = []
    for name in args.worlds:
        t0 = time.perf_counter()
        world = build_world(name, presets[name])
        print(f"{name}: world drawn in {time.perf_counter() - t0:.0f} s", flush=True)
        cache = Path(args.cache) if args.cache else None
        models, tests = list(args.models), None
        if args.lift_tests:
            models.append("mmm+tests")
            tests = {
                "share": args.holdout_share,
                "days": args.test_days,
                "rel_se": args.lift_se,
                "design": args.test_design,
                "readout": args.readout_days,
                "tail_rows": args.tail_rows,
                "tail_se": args.tail_se,
            }
        rows += run_world(
            world, models, args.shifts, settings, policy_dir, cache, tests, args.carryover_days
        )
    shutil.rmtree(policy_dir, ignore_errors=True)
    frame = pd.DataFrame(rows)
    if args.out:
        frame.assign(guardrails=frame["guardrails"].map("; ".join)).to_csv(args.out, index=False)
    summary(frame)
    print()
    for r in rows:
        print(
            f"{r['world']:<24} {r['when']:<17} {r['model']:<10} {r['shift']:>4} {r['level']:<8}: {r['split']}"
        )
    print("\nFitted (posterior median) and true daily decay")
    for (world, when, model), g in frame.groupby(["world", "when", "model"], sort=False):
        print(f"{world:<24} {when:<17} {model:<10} {g['decay'].iloc[0]}")


if __name__ == "__main__":
    main()
