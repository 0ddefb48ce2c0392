"""The closed loop, day by day, on a simulated market: decide -> execute -> simulator outcome
-> measure -> learn. What `marketing-ops simulate-loop` and `benchmarks/bench_loop.py` run.

Each simulated day ``d`` (decisions are made as of ``d - 1``):

- **measure** (every ``measure_every`` days, and once at the end): the new days' signal files
  go through the product's own ``ingest_and_model`` Dagster job (adapters, dbt, quality
  gates) into the warehouse; the knowledge graph is rebuilt from the marts;
- **learn** (on measure days): drift report on the marts (a crossed threshold drops the
  scope to recommend-only and the response curves are re-fitted), OPE gate on the logged
  content decisions;
- **decide**: a budget plan per paid channel at the start of every 7-day period (response
  curves fitted on the marts, optimised under the budget policy) and a content choice per
  audience every day (Thompson sampling over the graph's eligible candidates), for the
  audiences randomised into the two content arms of a policy experiment (a holdout gets
  nothing); all through the decision contract with statuses from the policies, the
  approval ledger, the off-ramp and the kill switch;
- **execute** through the connectors (sandbox outbox unless a webhook is configured);
- **simulator outcome**: the market simulates day ``d`` from the executed actions.

Why not one Dagster run per day: a dbt build takes 40-100 s here and the forecasts stage
(Prophet, bootstrap curves) about as much again, so 60 days would take hours; the loop runs
the same core functions the assets call, and the product's Dagster job for ingestion.

Scoring reads the simulator's ground truth (the product never does): the agent's spend
path, a static baseline that keeps every campaign at its last-week level, and an oracle
that knows the true curves and splits the same budget, all scored on the same true expected
revenue so noise cannot decide the comparison.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from marketing_ops.config import DataHome, data_home

PAID = ("paid_search", "display", "paid_social")
PERIOD_DAYS = 7
EXPERIMENT_SHARES = {"current": 0.45, "challenger": 0.45, "holdout": 0.10}


@dataclass(frozen=True)
class LoopConfig:
    days: int = 60
    history_days: int = 730
    seed: int = 7
    measure_every: int = PERIOD_DAYS
    contacts: int = 2500
    traffic_scale: float = 0.02
    autonomy: str = "full"
    curve_bootstrap: int = 8
    shock_channel: str | None = None  # plant a cost shock on this channel at the loop's start
    shock_multiplier: float = 2.0
    end: date | None = None  # last loop day (default: yesterday, so every day is a partition)
    # False: continue the simulated, already measured world in ``root`` from its next day
    # (tests reuse a world built once); True: simulate a fresh world there first.
    fresh: bool = True


@dataclass
class LoopResult:
    config: LoopConfig
    start: date
    end: date
    profit: pd.DataFrame  # policy x (spend, revenue, profit, vs_static)
    spend_by_channel: pd.DataFrame
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    experiment: dict | None = None
    kpis_by_channel: pd.DataFrame | None = None

    def table(self):
        from rich.table import Table

        t = Table(
            title=(
                f"Closed loop {self.start} .. {self.end} ({self.config.days} days, seed "
                f"{self.config.seed}): paid media, true expected EUR"
            )
        )
        for col in ("policy", "spend", "revenue", "profit", "profit vs static"):
            t.add_column(col, justify="right")
        for r in self.profit.itertuples():
            t.add_row(
                r.policy,
                f"{r.spend:,.0f}",
                f"{r.revenue:,.0f}",
                f"{r.profit:,.0f}",
                f"{r.vs_static:+,.0f} ({r.vs_static_pct:+.1%})",
            )
        return t


# ----------------------------------------------------------------------------- scoring


def path_revenue(world, spend: dict[str, np.ndarray], start: date, initial: dict[str, float]):
    """True expected conversions' revenue per channel and day for a spend path, carrying the
    adstock from ``initial`` (the simulator's own arithmetic, without the Poisson noise)."""
    out = {}
    for channel, path in spend.items():
        curve = world.curves[channel]
        carry = float(initial.get(channel, 0.0))
        revenue = np.zeros(len(path))
        for i, s in enumerate(path):
            day = start + timedelta(days=i)
            carry = s / world.cost_multiplier(channel, day) + curve.decay * carry
            revenue[i] = (
                world.expected_conversions(channel, carry, day) * curve.value_per_conversion
            )
        out[channel] = revenue
    return out


def _oracle_path(world, totals: list[float], start: date, initial: dict[str, float], days: int):
    """Period by period, the split of each period's total that maximises true revenue over
    the period, carrying the oracle's own adstock forward."""
    from scipy.optimize import minimize

    carry = dict(initial)
    paths = {c: np.zeros(days) for c in PAID}
    for p, total in enumerate(totals):
        first = p * PERIOD_DAYS
        n = min(PERIOD_DAYS, days - first)
        if n <= 0 or total <= 0:
            continue
        day0 = start + timedelta(days=first)

        def neg(x, n=n, day0=day0, total=total):
            spend = {c: np.full(n, x[i] * total / n) for i, c in enumerate(PAID)}
            rev = path_revenue(world, spend, day0, carry)
            return -sum(r.sum() for r in rev.values()) / total

        best = None
        for x0 in (np.full(3, 1 / 3), np.array([0.6, 0.2, 0.2]), np.array([0.2, 0.2, 0.6])):
            res = minimize(
                neg,
                x0,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * 3,
                constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
            )
            if best is None or res.fun < best.fun:
                best = res
        for i, c in enumerate(PAID):
            daily = best.x[i] * total / n
            paths[c][first : first + n] = daily
            ad = float(carry.get(c, 0.0))
            curve = world.curves[c]
            for k in range(n):
                ad = daily / world.cost_multiplier(c, day0 + timedelta(days=k)) + curve.decay * ad
            carry[c] = ad
    return paths


def score_policies(home: DataHome, start: date, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agent vs static baseline vs oracle on true expected revenue of paid media."""
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(home)
    d = truth.daily
    before = d[d["date"] < start.isoformat()]
    initial = {c: float(before.loc[before["channel"] == c, "adstock"].iloc[-1]) for c in PAID}
    last_week = {
        c: float(before.loc[before["channel"] == c, "spend"].tail(PERIOD_DAYS).mean()) for c in PAID
    }
    window = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    agent = {
        c: d[(d["channel"] == c) & d["date"].isin(window)]
        .sort_values("date")["spend"]
        .to_numpy(float)
        for c in PAID
    }
    static = {c: np.full(days, last_week[c]) for c in PAID}
    totals = [
        sum(static[c][p : p + PERIOD_DAYS].sum() for c in PAID) for p in range(0, days, PERIOD_DAYS)
    ]
    oracle = _oracle_path(truth.world, totals, start, initial, days)
    rows, spend_rows = [], []
    for name, path in (
        ("agent", agent),
        ("static campaign-by-campaign", static),
        ("oracle", oracle),
    ):
        rev = path_revenue(truth.world, path, start, initial)
        spend = sum(float(p.sum()) for p in path.values())
        revenue = sum(float(r.sum()) for r in rev.values())
        rows.append({"policy": name, "spend": spend, "revenue": revenue, "profit": revenue - spend})
        spend_rows.append({"policy": name, **{c: float(path[c].sum()) for c in PAID}})
    frame = pd.DataFrame(rows)
    base = float(frame.loc[frame["policy"].str.startswith("static"), "profit"].iloc[0])
    frame["vs_static"] = frame["profit"] - base
    frame["vs_static_pct"] = frame["vs_static"] / abs(base) if base else np.nan
    realised = d[d["channel"].isin(PAID) & d["date"].isin(window)]
    frame.attrs["agent_realised_profit"] = float(
        realised["revenue"].sum() - realised["spend"].sum()
    )
    return frame, pd.DataFrame(spend_rows)


# ----------------------------------------------------------------------------- the loop


def _prepare_home(root: Path) -> DataHome:
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not (root / "ground_truth" / "world.json").exists():
            raise RuntimeError(
                f"{root} holds data that is not a simulated loop world; choose another --home"
            )
        shutil.rmtree(root)  # a previous simulated loop world: start afresh
    return data_home(root).ensure()


def _set_autonomy(home: DataHome, level: str) -> None:
    import yaml

    from marketing_ops.decisioning import ensure_default_policies

    ensure_default_policies(home.policies)
    path = home.policies / "autonomy.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["autonomy"]["level"] = level
    path.write_text("# Set by simulate-loop for its own simulated world.\n" + yaml.safe_dump(doc))


def _graph(home: DataHome, day: date) -> None:
    """Rebuild the knowledge graph as of ``day`` by calling the graph asset itself."""
    import dagster as dg

    from marketing_ops.defs._shared import StoreResource
    from marketing_ops.defs.knowledge_graph.assets import KnowledgeGraphConfig, knowledge_graph

    knowledge_graph(
        dg.build_asset_context(partition_key=day.isoformat()),
        # the loop never retrieves content by meaning: no embeddings to compute
        config=KnowledgeGraphConfig(semantic="off"),
        store=StoreResource(home_root=str(home.root)),
    )


def _read(home: DataHome, table: str, **kw) -> pd.DataFrame:
    from marketing_ops.warehouse import connect, read_table

    with connect(home.warehouse, read_only=True) as con:
        return read_table(con, table, **kw)


def _write(home: DataHome, table: str, frame: pd.DataFrame, scope) -> None:
    from marketing_ops.warehouse import connect, replace_partition

    with connect(home.warehouse) as con:
        replace_partition(con, table, frame, scope)


def _measure(home: DataHome, instance, first: date, last: date, timings: dict) -> None:
    import time

    from marketing_ops.runner import INGEST_JOB, run_job

    t0 = time.perf_counter()
    outcome = run_job(instance, INGEST_JOB, first, last)
    timings["measure (Dagster ingest + dbt)"] = timings.get(
        "measure (Dagster ingest + dbt)", 0.0
    ) + (time.perf_counter() - t0)
    if not outcome.success:
        raise RuntimeError(
            f"ingest_and_model {first}..{last} failed: {outcome.failed_steps or outcome.skipped_steps}"
        )
    t0 = time.perf_counter()
    _graph(home, last)
    timings["knowledge graph"] = timings.get("knowledge graph", 0.0) + time.perf_counter() - t0


def _outcomes(home: DataHome, as_of: date) -> pd.DataFrame:
    from marketing_ops.defs.measurement.assets import agent_email_events
    from marketing_ops.measurement import decision_outcomes

    decisions = _read(home, "agent.decisions", date_column="as_of", end=as_of)
    if decisions.empty:
        return pd.DataFrame()
    kpis = _read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)
    conversions = _read(home, "marts.fct_conversions", date_column="date_day", end=as_of)
    events = agent_email_events(_read(home, "raw.email_events"), decisions["decision_id"])
    out = decision_outcomes(decisions, kpis, conversions, events).assign(as_of=as_of)
    _write(home, "agent.decision_outcomes", out, as_of)
    return out


def run_loop(
    root: Path, cfg: LoopConfig, progress: Callable[[int, str], None] | None = None
) -> LoopResult:
    """Simulate ``cfg.history_days`` of the market, then run the closed loop ``cfg.days``."""
    import time

    from marketing_ops.decisioning import (
        apply_approvals,
        apply_offramp,
        apply_scoped_autonomy,
        assemble_batch,
        autonomy_state,
        choose_content,
        load_policies,
        plan_budget,
        read_approvals,
        scoped_autonomy,
    )
    from marketing_ops.decisioning.decide import carry_in_adstock
    from marketing_ops.defs._shared import ConnectorsResource
    from marketing_ops.execution import execute_batch
    from marketing_ops.forecasting import demand_index, fit_response_curves
    from marketing_ops.graph import GraphReader, eligible_candidates
    from marketing_ops.measurement import (
        assign_arms,
        drift_report,
        evaluate_candidate,
        experiment_report,
        logged_content_decisions,
    )
    from marketing_ops.runner import prepare_instance
    from marketing_ops.simulator import Shock, WorldConfig, generate_history, simulate_outcomes
    from marketing_ops.warehouse import frame_version

    tick = progress or (lambda done, note: None)
    timings: dict[str, float] = {}
    if cfg.fresh:
        end = cfg.end or date.today() - timedelta(days=1)
        start = end - timedelta(days=cfg.days - 1)
        history_start = start - timedelta(days=cfg.history_days)
        home = _prepare_home(root)
        shock = (
            Shock(cfg.shock_channel, day=cfg.history_days, cost_multiplier=cfg.shock_multiplier)
            if cfg.shock_channel
            else None
        )
        t0 = time.perf_counter()
        tick(0, f"simulating {cfg.history_days} days of history")
        generate_history(
            home,
            WorldConfig(
                seed=cfg.seed,
                start=history_start,
                days=cfg.history_days,
                contacts=cfg.contacts,
                traffic_scale=cfg.traffic_scale,
                shock=shock,
            ),
        )
        timings["simulate history"] = time.perf_counter() - t0
        _set_autonomy(home, cfg.autonomy)
        instance = prepare_instance(home)
        tick(0, "measuring the history (Dagster ingest_and_model)")
        _measure(home, instance, history_start, start - timedelta(days=1), timings)
    else:
        home = data_home(root).ensure()
        state = json.loads((home.ground_truth / "state.json").read_text())
        start = date.fromisoformat(state["next_day"])
        end = start + timedelta(days=cfg.days - 1)
        _set_autonomy(home, cfg.autonomy)
        instance = prepare_instance(home)
        _graph(home, start - timedelta(days=1))
    if end > date.today():
        raise ValueError(f"the loop would run to {end}, past today: daily partitions end today")
    measured_to = start - timedelta(days=1)

    connectors = ConnectorsResource().connectors(home)
    events: list[str] = []
    executed_all: list[pd.DataFrame] = []
    units: list[dict] = []
    # Sends per audience and day, to hold the weekly frequency cap between graph rebuilds
    # (the graph counts sends as of its last build only), seeded with the last week before
    # the loop.
    sends_by_audience: dict[str, list[date]] = {}
    before = _read(
        home,
        "marts.fct_audience_email_daily",
        date_column="date_day",
        start=start - timedelta(days=7),
        end=start - timedelta(days=1),
    )
    for r in before[before["sends"] > 0].itertuples() if len(before) else []:
        sends_by_audience.setdefault(r.audience_id, []).append(pd.Timestamp(r.date_day).date())
    curves, samples, plan = {}, {}, None
    refit_needed = True
    for i in range(cfg.days):
        day = start + timedelta(days=i)
        as_of = day - timedelta(days=1)
        policies = load_policies(home.policies)
        # ---------------------------------------------------------------- measure + learn
        if i > 0 and i % cfg.measure_every == 0:
            tick(i, f"{day}: measuring {measured_to + timedelta(days=1)}..{as_of}")
            _measure(home, instance, measured_to + timedelta(days=1), as_of, timings)
            measured_to = as_of
            t1 = time.perf_counter()
            kpis = _read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)
            report = drift_report(kpis, as_of, curves or None)
            if report.drifted:
                dropped = apply_offramp(home, report.crossed)
                events.append(
                    f"{as_of}: drift off-ramp -> {', '.join(dropped)}: {report.summary()}"
                )
                refit_needed = True  # forecasts re-fitted on the data that shows the change
            outcomes = _outcomes(home, as_of)
            log = logged_content_decisions(
                _read(home, "agent.decisions", date_column="as_of", end=as_of), outcomes
            )
            ope = evaluate_candidate(log)
            if ope is not None:
                events.append(f"{as_of}: OPE gate ({len(log)} sends): {ope['gate'].reason}")
            timings["learn (drift, OPE)"] = timings.get("learn (drift, OPE)", 0.0) + (
                time.perf_counter() - t1
            )
        kpis = _read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)
        # ---------------------------------------------------------------- decide
        t1 = time.perf_counter()
        plan = None
        if i % PERIOD_DAYS == 0:
            if refit_needed or not curves:
                fitted = fit_response_curves(
                    kpis,
                    demand_index(kpis, as_of, PERIOD_DAYS),
                    channels=PAID,
                    bootstrap=cfg.curve_bootstrap,
                )
                curves = {c: f.curve for c, f in fitted.items()}
                samples = {c: f.samples for c, f in fitted.items()}
                refit_needed = False
            recent = kpis[
                pd.to_datetime(kpis["date_day"])
                > pd.Timestamp(as_of) - pd.Timedelta(days=PERIOD_DAYS)
            ]
            last_period = recent.groupby("channel")["spend"].sum().to_dict()
            plan = plan_budget(
                curves,
                last_period_spend={c: float(last_period.get(c, 0.0)) for c in curves},
                seasonal_index={},
                initial_adstock=carry_in_adstock(kpis, curves),
                policy=policies.budget,
                samples=samples,
            )
        with GraphReader(home.graph) as reader:
            candidates = eligible_candidates(
                reader,
                channel="email",
                suppressed_audiences=tuple(policies.content.suppressed_audiences),
                frequency_cap_per_week=None,  # held below with sends up to yesterday
            )
        # the graph is as of the last measure: hold the weekly cap with the sends up to today
        cap = policies.content.frequency_cap_per_week
        recent_sends = {
            a: sum(1 for s in v if s > day - timedelta(days=7))
            for a, v in sends_by_audience.items()
        }
        under_cap = {a for a in candidates["audience_id"].unique() if recent_sends.get(a, 0) < cap}
        candidates = candidates[candidates["audience_id"].isin(under_cap)]
        audiences = sorted(candidates["audience_id"].unique()) if len(candidates) else []
        arms = assign_arms(
            [f"{a}|{day.isoformat()}" for a in audiences], EXPERIMENT_SHARES, f"loop-{cfg.seed}"
        )
        arm_of = dict(zip(audiences, arms.tolist(), strict=True))
        send_hours = _read(home, "marts.fct_audience_send_hours")
        choices = []
        for arm, content_policy in (
            ("current", policies.content),
            (
                "challenger",
                policies.content.model_copy(
                    update={
                        "exploration": policies.content.exploration.model_copy(
                            update={"max_share": 0.05, "min_propensity": 0.01}
                        )
                    }
                ),
            ),
        ):
            in_arm = candidates[candidates["audience_id"].map(arm_of) == arm]
            if len(in_arm):
                choices.append(
                    choose_content(
                        in_arm, send_hours, content_policy, as_of, seed=cfg.seed * 100_000 + i
                    )
                )
        choice_frame = pd.concat(choices, ignore_index=True) if choices else None
        if choice_frame is not None:
            choice_frame = choice_frame[choice_frame["action"] == "send"]
        signals = [
            {"name": "marts/fct_channel_kpis_daily", "data_version": frame_version(kpis)},
            {"name": "graph/knowledge_graph", "data_version": f"as of {measured_to}"},
        ]
        batch = assemble_batch(as_of, plan, choice_frame, policies, signals, autonomy_state(home))
        ledger = read_approvals(home)
        batch = apply_scoped_autonomy(apply_approvals(batch, ledger), scoped_autonomy(home), ledger)
        timings["decide"] = timings.get("decide", 0.0) + time.perf_counter() - t1
        # ---------------------------------------------------------------- execute
        t1 = time.perf_counter()
        result = execute_batch(batch, connectors, autonomy_state(home).kill_switch_on)
        batch = batch.drop(columns=["status"]).merge(
            result[["decision_id", "status"]], on="decision_id"
        )
        _write(home, "agent.decisions", batch.assign(as_of=as_of), as_of)
        _write(home, "agent.executions", result.assign(as_of=as_of), as_of)
        done = batch[batch["status"] == "executed"]
        executed_all.append(done)
        timings["execute"] = timings.get("execute", 0.0) + time.perf_counter() - t1
        for row in done[done["action_type"] == "content_selection"].itertuples():
            sends_by_audience.setdefault(row.audience_id, []).append(day)
        for a in audiences:
            sent = done[(done["action_type"] == "content_selection") & (done["audience_id"] == a)]
            units.append(
                {
                    "unit": f"{a}|{day.isoformat()}",
                    "arm": arm_of[a],
                    "audience_id": a,
                    "decision_id": sent["decision_id"].iloc[0] if len(sent) else None,
                }
            )
        if plan is not None and not (done["action_type"].eq("budget_allocation").any()):
            events.append(
                f"{as_of}: budget plan not executed (statuses: "
                f"{', '.join(sorted(set(batch.loc[batch['action_type'] == 'budget_allocation', 'status'])))})"
            )
        # ---------------------------------------------------------------- simulator outcome
        t1 = time.perf_counter()
        simulate_outcomes(home, pd.concat(executed_all, ignore_index=True), day, 1)
        timings["simulator outcome"] = timings.get("simulator outcome", 0.0) + (
            time.perf_counter() - t1
        )
        tick(i + 1, f"{day}: {len(done)} actions executed")

    tick(cfg.days, "measuring the last days")
    if measured_to < end:
        _measure(home, instance, measured_to + timedelta(days=1), end, timings)
    outcomes = _outcomes(home, end)
    kpis = _read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=end)
    final = drift_report(kpis, end, curves or None)
    if final.drifted:
        apply_offramp(home, final.crossed)
        events.append(f"{end}: drift off-ramp -> {final.summary()}")
    experiment = _experiment(units, outcomes, experiment_report)
    profit, spend = score_policies(home, start, cfg.days)
    from marketing_ops.measurement import decision_days, kpi_rollup

    decisions = _read(home, "agent.decisions", date_column="as_of", end=end)
    conversions = _read(home, "marts.fct_conversions", date_column="date_day", end=end)
    daily = decision_days(decisions, kpis, conversions)
    _write(home, "agent.decision_kpis", daily.assign(as_of=end), end)
    by_channel = kpi_rollup(daily, "channel")
    notes = _notes(profit, spend, events, experiment, timings, home)
    result = LoopResult(
        cfg, start, end, profit, spend, events, notes, timings, experiment, by_channel
    )
    (home.reports / "loop_result.json").write_text(
        json.dumps(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "profit": profit.to_dict("records"),
                "agent_realised_profit": profit.attrs.get("agent_realised_profit"),
                "spend_by_channel": spend.to_dict("records"),
                "events": events,
                "seconds": timings,
            },
            indent=2,
            default=str,
        )
    )
    return result


def _experiment(units: list[dict], outcomes: pd.DataFrame, report_fn) -> dict | None:
    """Content policies side by side on randomised audience-days: clicks per consented
    contact, current vs challenger and each against the holdout (no send)."""
    if not units:
        return None
    u = pd.DataFrame(units)
    clicks = (
        outcomes.set_index("decision_id")["clicks"].to_dict()
        if outcomes is not None and len(outcomes)
        else {}
    )
    u["outcome"] = [float(clicks.get(d, 0.0)) if d else 0.0 for d in u["decision_id"]]
    rep = report_fn(
        u,
        EXPERIMENT_SHARES,
        [("challenger", "current"), ("current", "holdout"), ("challenger", "holdout")],
        outcome="outcome",
        peeks=list(range(30, len(u), 30)),
    )
    return rep


def _notes(profit, spend, events, experiment, timings, home) -> list[str]:
    notes = []
    agent = profit.set_index("policy")
    notes.append(
        "Agent realised profit (simulated, with noise): "
        f"{profit.attrs.get('agent_realised_profit', float('nan')):,.0f} EUR; "
        f"expected {agent.loc['agent', 'profit']:,.0f} EUR."
    )
    shares = spend.set_index("policy")
    for name in shares.index:
        total = shares.loc[name].sum()
        notes.append(
            f"Spend split, {name}: "
            + ", ".join(f"{c} {shares.loc[name, c] / total:.0%}" for c in PAID)
        )
    if experiment is not None:
        notes.append(f"Content experiment: {experiment['srm']}; {experiment['verdict']}")
        for r in experiment["comparisons"].itertuples():
            notes.append(
                f"  {r.treatment} - {r.control}: {r.difference:+.2f} clicks per audience-day "
                f"(95% CI {r.ci_lower:+.2f}..{r.ci_upper:+.2f}; always-valid p {r.always_valid_p:.3g})"
            )
    notes.extend(events[-12:])
    notes.append(
        "Seconds: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(timings.items(), key=lambda x: -x[1]))
    )
    notes.append(f"World and reports in {home.root}")
    return notes
