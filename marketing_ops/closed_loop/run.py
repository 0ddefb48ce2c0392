"""``run_loop``: the closed loop day by day, as named steps (open the world, then per day
measure and learn, decide, execute, simulate; then finish and score)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from marketing_ops.closed_loop.config import (
    EXPERIMENT_SHARES,
    PAID,
    PERIOD_DAYS,
    LoopConfig,
    LoopResult,
)
from marketing_ops.closed_loop.scoring import score_policies
from marketing_ops.closed_loop.turn import (
    Forecasts,
    capped_candidates,
    decide_turn,
    refresh_forecasts,
)
from marketing_ops.closed_loop.world import (
    measure,
    prepare_home,
    read,
    rebuild_graph,
    record_outcomes,
    set_autonomy,
    set_testing,
    timed,
    write,
)
from marketing_ops.config import DataHome, data_home
from marketing_ops.decisioning import executed_test_spend

if TYPE_CHECKING:
    from marketing_ops.simulator import WorldConfig

__all__ = ["run_loop", "world_config"]

Progress = Callable[[int, str], None]


@dataclass
class LoopState:
    """What the loop carries from one day to the next."""

    cfg: LoopConfig
    home: DataHome
    instance: object
    start: date
    end: date
    measured_to: date
    connectors: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    executed: list[pd.DataFrame] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    # Sends per audience and day, to hold the weekly frequency cap between graph rebuilds.
    sends_by_audience: dict[str, list[date]] = field(default_factory=dict)
    forecasts: Forecasts = field(default_factory=Forecasts)
    refit_needed: bool = True
    # the agent's own tests the model has been fitted with since they ended
    read_tests: set[str] = field(default_factory=set)


def run_loop(root: Path, cfg: LoopConfig, progress: Progress | None = None) -> LoopResult:
    """Simulate ``cfg.history_days`` of the market, then run the closed loop ``cfg.days``."""
    tick = progress or (lambda done, note: None)
    state = _open_world(Path(root), cfg, tick)
    for i in range(cfg.days):
        day = state.start + timedelta(days=i)
        if i > 0 and i % cfg.measure_every == 0:
            tick(
                i,
                f"{day}: measuring {state.measured_to + timedelta(days=1)}..{day - timedelta(days=1)}",
            )
            _measure_and_learn(state, day - timedelta(days=1))
        batch, done = _decide_and_execute(state, i, day)
        _note_unexecuted_budget(state, batch, done, i, day)
        _simulate(state, day)
        tick(i + 1, f"{day}: {len(done)} actions executed")
    tick(cfg.days, "measuring the last days")
    return _finish(state)


# ----------------------------------------------------------------------------- opening


def _open_world(root: Path, cfg: LoopConfig, tick: Progress) -> LoopState:
    """A fresh simulated and measured world, or the next day of the one in ``root``."""
    from marketing_ops.execution import SandboxConnector

    state = _fresh_world(root, cfg, tick) if cfg.fresh else _continued_world(root, cfg)
    if cfg.testing_budget_eur > 0:
        set_testing(state.home, cfg.testing_budget_eur, cfg.testing_settings)
    if state.end > date.today():
        raise ValueError(
            f"the loop would run to {state.end}, past today: daily partitions end today"
        )
    # a simulated world only ever writes to the sandbox outbox, whatever webhook is configured
    state.connectors = {"*": SandboxConnector(state.home.outbox)}
    state.sends_by_audience = _sends_last_week(state.home, state.start)
    return state


def world_config(cfg: LoopConfig, history_start: date) -> WorldConfig:
    """The simulated market the loop runs on: the demo world of ``cfg.seed``, with a cost
    shock planted at the loop's start, the hostile preset ``cfg.world`` and ``cfg.geos``
    regions when asked."""
    from marketing_ops.simulator import Shock, WorldConfig, hostile_world

    shock = (
        Shock(cfg.shock_channel, day=cfg.history_days, cost_multiplier=cfg.shock_multiplier)
        if cfg.shock_channel
        else None
    )
    hostile = hostile_world(cfg.world, days=cfg.history_days) if cfg.world else None
    return WorldConfig(
        seed=cfg.seed,
        start=history_start,
        days=cfg.history_days,
        contacts=cfg.contacts,
        traffic_scale=cfg.traffic_scale,
        shock=shock,
        hostility=hostile.hostility if hostile else None,
        geos=cfg.geos,
    )


def _fresh_world(root: Path, cfg: LoopConfig, tick: Progress) -> LoopState:
    from marketing_ops.runner import prepare_instance
    from marketing_ops.simulator import generate_history

    end = cfg.end or date.today() - timedelta(days=1)
    start = end - timedelta(days=cfg.days - 1)
    history_start = start - timedelta(days=cfg.history_days)
    home = prepare_home(root)
    timings: dict[str, float] = {}
    tick(0, f"simulating {cfg.history_days} days of history")
    with timed(timings, "simulate history"):
        generate_history(home, world_config(cfg, history_start))
    set_autonomy(home, cfg.autonomy)
    instance = prepare_instance(home)
    tick(0, "measuring the history (Dagster ingest_and_model)")
    measured_to = start - timedelta(days=1)
    measure(home, instance, history_start, measured_to, timings)
    return LoopState(cfg, home, instance, start, end, measured_to, timings=timings)


def _continued_world(root: Path, cfg: LoopConfig) -> LoopState:
    from marketing_ops.runner import prepare_instance

    home = data_home(root).ensure()
    state = json.loads((home.ground_truth / "state.json").read_text())
    start = date.fromisoformat(state["next_day"])
    set_autonomy(home, cfg.autonomy)
    instance = prepare_instance(home)
    rebuild_graph(home, start - timedelta(days=1))
    end = start + timedelta(days=cfg.days - 1)
    return LoopState(cfg, home, instance, start, end, start - timedelta(days=1))


def _sends_last_week(home: DataHome, start: date) -> dict[str, list[date]]:
    """Sends per audience over the week before the loop (seeds the frequency cap)."""
    before = read(
        home,
        "marts.fct_audience_email_daily",
        date_column="date_day",
        start=start - timedelta(days=7),
        end=start - timedelta(days=1),
    )
    sends: dict[str, list[date]] = {}
    for r in before[before["sends"] > 0].itertuples() if len(before) else []:
        sends.setdefault(r.audience_id, []).append(pd.Timestamp(r.date_day).date())
    return sends


# ----------------------------------------------------------------------------- each day


def _kpis(state: LoopState, as_of: date) -> pd.DataFrame:
    return read(state.home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)


def _measure_and_learn(state: LoopState, as_of: date) -> None:
    """Measure the days since the last measure, then learn: drift (a crossed threshold drops
    the scope to recommend-only and asks for re-fitted curves) and the OPE gate."""
    from marketing_ops.decisioning import apply_offramp
    from marketing_ops.measurement import drift_report, evaluate_candidate, logged_content_decisions

    home = state.home
    measure(home, state.instance, state.measured_to + timedelta(days=1), as_of, state.timings)
    state.measured_to = as_of
    with timed(state.timings, "learn (drift, OPE)"):
        tests = executed_test_spend(read(state.home, "agent.decisions"))
        report = drift_report(
            _kpis(state, as_of), as_of, state.forecasts.curves or None, tests=tests
        )
        if report.drifted:
            dropped = apply_offramp(home, report.crossed)
            state.events.append(
                f"{as_of}: drift off-ramp -> {', '.join(dropped)}: {report.summary()}"
            )
            state.refit_needed = True  # forecasts re-fitted on the data that shows the change
        outcomes = record_outcomes(home, as_of)
        decisions = read(home, "agent.decisions", date_column="as_of", end=as_of)
        log = logged_content_decisions(decisions, outcomes)
        ope = evaluate_candidate(log)
        if ope is not None:
            state.events.append(f"{as_of}: OPE gate ({len(log)} sends): {ope['gate'].reason}")


def _decide_and_execute(state: LoopState, i: int, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's batch through ``decide`` and the connectors; returns it and the executed rows."""
    as_of = day - timedelta(days=1)
    kpis = _kpis(state, as_of)
    with timed(state.timings, "decide"):
        turn = _decide(state, i, day, kpis)
    with timed(state.timings, "execute"):
        batch, done = _execute(state, turn.batch, as_of)
    _record_sends_and_units(state, done, turn, day)
    return batch, done


def _decide(state: LoopState, i: int, day: date, kpis: pd.DataFrame):
    from marketing_ops.decisioning import load_policies
    from marketing_ops.warehouse import frame_version

    as_of = day - timedelta(days=1)
    period_start = i % PERIOD_DAYS == 0
    policies = load_policies(state.home.policies)
    if period_start and policies.testing.enabled and _tests_ended(state, as_of):
        state.refit_needed = True  # the model calibrates on the ended tests' read-outs
    if period_start:
        state.forecasts = refresh_forecasts(
            state.home, kpis, as_of, state.forecasts, state.refit_needed, state.cfg.curve_bootstrap
        )
        state.refit_needed = False
        if not state.forecasts.curves:
            state.events.append(
                f"{as_of}: no response curves (a media mix model that failed the convergence "
                "gate): no decision this period"
            )
    candidates = capped_candidates(state.home, policies, state.sends_by_audience, day)
    signals = [
        {"name": "marts/fct_channel_kpis_daily", "data_version": frame_version(kpis)},
        {"name": "graph/knowledge_graph", "data_version": f"as of {state.measured_to}"},
    ]
    turn = decide_turn(
        state.home,
        as_of,
        kpis,
        state.forecasts,
        candidates,
        signals,
        seed=state.cfg.seed * 100_000 + i,
        experiment_salt=f"loop-{state.cfg.seed}",
        plan_budget=period_start,
    )
    tests = turn.batch[turn.batch["action_type"] == "incrementality_test"]
    for r in tests.itertuples():
        state.events.append(f"{as_of}: test proposed {r.decision_id} ({r.status})")
    if turn.untested:
        why = "; ".join(f"{c}: {w}" for c, w in sorted(turn.untested.items()))
        state.events.append(f"{as_of}: no test for {why}")
    return turn


def _tests_ended(state: LoopState, as_of: date) -> bool:
    """Whether an executed test of the agent's has ended by ``as_of`` since the model was
    last fitted (its read-out then calibrates the refit, as in the product's next fit)."""
    from marketing_ops.experiments.batch import finished_tests

    ended = {d.name for d in finished_tests(read(state.home, "agent.decisions"), as_of)}
    new = ended - state.read_tests
    state.read_tests |= ended
    return bool(new)


def _execute(state: LoopState, batch: pd.DataFrame, as_of: date):
    """Deliver the batch, store it and its executions as of ``as_of``."""
    from marketing_ops.decisioning import autonomy_state
    from marketing_ops.execution import execute_batch

    result = execute_batch(batch, state.connectors, autonomy_state(state.home).kill_switch_on)
    batch = batch.drop(columns=["status"]).merge(
        result[["decision_id", "status"]], on="decision_id"
    )
    write(state.home, "agent.decisions", batch.assign(as_of=as_of), as_of)
    write(state.home, "agent.executions", result.assign(as_of=as_of), as_of)
    done = batch[batch["status"] == "executed"]
    state.executed.append(done)
    return batch, done


def _record_sends_and_units(state: LoopState, done: pd.DataFrame, turn, day: date) -> None:
    """Today's sends (for the frequency cap) and each audience-day's arm and decision (for
    the experiment)."""
    sent = done[done["action_type"] == "content_selection"]
    for row in sent.itertuples():
        state.sends_by_audience.setdefault(row.audience_id, []).append(day)
    for a in turn.audiences:
        mine = sent[sent["audience_id"] == a]
        state.units.append(
            {
                "unit": f"{a}|{day.isoformat()}",
                "arm": turn.arm_of[a],
                "audience_id": a,
                "decision_id": mine["decision_id"].iloc[0] if len(mine) else None,
            }
        )


def _note_unexecuted_budget(state: LoopState, batch, done, i: int, day: date) -> None:
    if i % PERIOD_DAYS or done["action_type"].eq("budget_allocation").any():
        return
    statuses = sorted(set(batch.loc[batch["action_type"] == "budget_allocation", "status"]))
    state.events.append(
        f"{day - timedelta(days=1)}: budget plan not executed (statuses: {', '.join(statuses)})"
    )


def _simulate(state: LoopState, day: date) -> None:
    """The market simulates ``day`` from everything executed so far."""
    from marketing_ops.simulator import simulate_outcomes

    with timed(state.timings, "simulator outcome"):
        simulate_outcomes(state.home, pd.concat(state.executed, ignore_index=True), day, 1)


# ----------------------------------------------------------------------------- finishing


def _finish(state: LoopState) -> LoopResult:
    """Measure the last days, a last drift check, the content experiment, the scores, and
    the result written to ``reports/loop_result.json``."""
    from marketing_ops.measurement import decision_days, experiment_report, kpi_rollup

    home, end = state.home, state.end
    if state.measured_to < end:
        measure(home, state.instance, state.measured_to + timedelta(days=1), end, state.timings)
    outcomes = record_outcomes(home, end)
    kpis = _kpis(state, end)
    _last_drift_check(state, kpis)
    experiment = _experiment(state.units, outcomes, experiment_report)
    profit, spend = score_policies(home, state.start, state.cfg.days)
    decisions = read(home, "agent.decisions", date_column="as_of", end=end)
    conversions = read(home, "marts.fct_conversions", date_column="date_day", end=end)
    daily = decision_days(decisions, kpis, conversions)
    write(home, "agent.decision_kpis", daily.assign(as_of=end), end)
    notes = _notes(profit, spend, state.events, experiment, state.timings, home)
    result = LoopResult(
        state.cfg,
        state.start,
        end,
        profit,
        spend,
        state.events,
        notes,
        state.timings,
        experiment,
        kpi_rollup(daily, "channel"),
    )
    _write_result(home, result)
    return result


def _last_drift_check(state: LoopState, kpis: pd.DataFrame) -> None:
    from marketing_ops.decisioning import apply_offramp
    from marketing_ops.measurement import drift_report

    tests = executed_test_spend(read(state.home, "agent.decisions"))
    final = drift_report(kpis, state.end, state.forecasts.curves or None, tests=tests)
    if final.drifted:
        apply_offramp(state.home, final.crossed)
        state.events.append(f"{state.end}: drift off-ramp -> {final.summary()}")


def _write_result(home: DataHome, result: LoopResult) -> None:
    (home.reports / "loop_result.json").write_text(
        json.dumps(
            {
                "start": result.start.isoformat(),
                "end": result.end.isoformat(),
                "profit": result.profit.to_dict("records"),
                "agent_realised_profit": result.profit.attrs.get("agent_realised_profit"),
                "spend_by_channel": result.spend_by_channel.to_dict("records"),
                "events": result.events,
                "seconds": result.seconds,
            },
            indent=2,
            default=str,
        )
    )


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
    return report_fn(
        u,
        EXPERIMENT_SHARES,
        [("challenger", "current"), ("current", "holdout"), ("challenger", "holdout")],
        outcome="outcome",
        peeks=list(range(30, len(u), 30)),
    )


def _notes(profit, spend, events, experiment, timings, home) -> list[str]:
    agent = profit.set_index("policy")
    notes = [
        "Agent realised profit (simulated, with noise): "
        f"{profit.attrs.get('agent_realised_profit', float('nan')):,.0f} EUR; "
        f"expected {agent.loc['agent', 'profit']:,.0f} EUR."
    ]
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
