"""Closing the loop on the shared simulated world: the learning stage on a stable market,
and a short `simulate-loop` continuing that world for real (decide -> execute -> simulator
-> Dagster ingest -> measure -> learn). The 60-day version is benchmarks/bench_loop.py."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import dagster as dg
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.decisioning import scoped_autonomy
from marketing_ops.runner import prepare_instance
from marketing_ops.warehouse import connect

DRIFT = dg.AssetKey(["learning", "drift"])


def test_drift_is_quiet_on_the_stable_world(flow_world) -> None:
    """On the shared world (no shock), every drift check ran and passed, no scope lost
    autonomy, and the findings are stored with their statistics."""
    instance = prepare_instance(flow_world.home)
    keys = [
        dg.AssetCheckKey(DRIFT, name)
        for name in ("signal_drift", "forecast_error_drift", "guardrail_regressions")
    ]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    assert set(latest) == set(keys)
    for key, record in latest.items():
        assert record.evaluation is not None and record.evaluation.passed, key
    assert scoped_autonomy(flow_world.home) == {}
    with connect(flow_world.home.warehouse, read_only=True) as con:
        findings = con.execute("select * from agent.drift").df()
    assert len(findings) >= 8 and not findings["crossed"].any()
    assert findings["psi"].notna().sum() >= 6


def test_a_short_closed_loop_continues_the_world(flow_world, tmp_path) -> None:
    """Two loop days on a copy of the shared world: budget and content decisions are made as
    of each day, executed through the sandbox connector, simulated by the market with their
    decision ids in the exports, measured back through Dagster, and scored against the
    static baseline and the oracle on the simulator's truth."""
    from marketing_ops.closed_loop import LoopConfig, run_loop

    root = tmp_path / "loop"
    shutil.copytree(flow_world.home.root, root)
    result = run_loop(
        root, LoopConfig(days=2, seed=11, curve_bootstrap=2, fresh=False, measure_every=7)
    )
    home = data_home(root)
    assert (result.start - flow_world.end).days == 1 and (result.end - result.start).days == 1

    with connect(home.warehouse, read_only=True) as con:
        decisions = con.execute(
            "select * from agent.decisions where as_of >= ?", [flow_world.end]
        ).df()
        kpis = con.execute(
            "select * from marts.fct_channel_kpis_daily where date_day >= ?", [result.start]
        ).df()
    executed = decisions[decisions["status"] == "executed"]
    assert {"budget_allocation", "content_selection"} <= set(executed["action_type"])
    outbox = {p.stem for p in home.outbox.rglob("*.json")}
    assert set(executed["decision_id"]) <= outbox

    # the simulator ran the executed budget and tagged its outcomes with the decision ids
    budget = executed[executed["action_type"] == "budget_allocation"].set_index("channel")
    # accepted files are archived as <sha256>__<name> once ingested
    (search_file,) = home.archive.rglob(f"*google_ads_{result.start}.csv")
    search = pd.read_csv(search_file)
    spent = search[search["Campaign"].str.startswith("SEARCH")]["Cost"].sum()
    assert spent == pytest.approx(budget.loc["paid_search", "amount"] / 7, rel=0.15)
    (ga4_file,) = home.archive.rglob(f"*ga4_{result.start}.jsonl")
    ga4 = ga4_file.read_text()
    assert budget.loc["paid_search", "decision_id"] in ga4

    # ...and the product measured those days back into the marts
    assert set(pd.to_datetime(kpis["date_day"]).dt.date) == {result.start, result.end}

    profit = result.profit.set_index("policy")
    assert list(profit.index) == ["agent", "static campaign-by-campaign", "oracle"]
    assert profit.loc["oracle", "profit"] >= profit.loc["static campaign-by-campaign", "profit"]
    assert profit["spend"].gt(0).all()
    saved = json.loads((home.reports / "loop_result.json").read_text())
    assert saved["start"] == result.start.isoformat() and len(saved["profit"]) == 3


def test_the_loop_turn_is_the_agents_decide(flow_world, tmp_path) -> None:
    """The loop decides through `decisioning.decide()`, as the decision_batch asset does: with
    the budget policy at campaign level its budget lines are split per campaign, the plan is
    phased by the demand index, and the current arm's actions are exactly those `decide()`
    returns on the same inputs (the old loop planned per channel and chose content without
    compliance or value per conversion)."""
    import yaml

    from marketing_ops.closed_loop.turn import (
        Forecasts,
        capped_candidates,
        decide_turn,
        refresh_forecasts,
    )
    from marketing_ops.closed_loop.world import read
    from marketing_ops.decisioning import DecisionInputs, autonomy_state, decide, load_policies

    root = tmp_path / "turn"
    shutil.copytree(flow_world.home.root, root)
    home = data_home(root)
    path = home.policies / "budget.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["budget"]["plan_level"] = "campaign"
    path.write_text(yaml.safe_dump(doc))
    as_of = flow_world.end
    kpis = read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)
    forecasts = refresh_forecasts(home, kpis, as_of, Forecasts(), refit=True, bootstrap=2)
    assert (forecasts.seasonal_rows["metric"] == "seasonal_index").all()
    policies = load_policies(home.policies)
    candidates = capped_candidates(home, policies, {}, as_of + timedelta(days=1))
    moment = datetime(2026, 12, 4, 9, 30)  # ids hash the batch's moment: the same for both
    turn = decide_turn(home, as_of, kpis, forecasts, candidates, [], 5, "t", True, moment)

    budget = turn.batch[turn.batch["action_type"] == "budget_allocation"]
    assert budget["campaign_id"].notna().all()
    assert budget.groupby("channel").size().min() >= 2

    current = candidates[candidates["audience_id"].map(turn.arm_of) == "current"]
    inputs = DecisionInputs(
        kpis,
        forecasts.curve_rows,
        forecasts.seasonal_rows,
        read(home, "marts.fct_audience_send_hours"),
        current,
        read(home, "marts.fct_ad_spend_daily", date_column="date_day", end=as_of),
        read(home, "marts.fct_conversions", date_column="date_day", end=as_of),
    )
    expected = decide(as_of, inputs, policies, autonomy_state(home), [], 5, moment).batch
    mine = turn.batch[turn.batch["batch_id"] == expected["batch_id"].iloc[0]]
    assert sorted(mine["decision_id"]) == sorted(expected["decision_id"])


def test_the_loop_decides_on_the_model_the_product_would_use(flow_world, tmp_path) -> None:
    """`simulate-loop` refits its curves with the model the `response_curves` asset would use:
    `auto` on a history long enough (the threshold lowered to the shared world's length)
    fits the media mix model, records the fit on the decision ledger, and a fit that fails
    the convergence gate (one chain) gives no curves, so the turn decides nothing, as the
    asset's blocking check stops the product's decision. `attributed` written in the home's
    settings fits the attributed curves."""
    from marketing_ops.closed_loop.turn import Forecasts, decide_turn, refresh_forecasts
    from marketing_ops.decisioning import read_entries
    from marketing_ops.warehouse import read_table

    root = tmp_path / "loop"
    shutil.copytree(flow_world.home.root, root)
    home = data_home(root)
    home.settings.mkdir(exist_ok=True)
    settings = home.settings / "forecasting.yaml"
    settings.write_text(
        "forecasting:\n  mmm: {warmup: 10, draws: 10, chains: 1, curve_draws: 5, "
        "min_history_days: 60}\n"
    )
    with connect(home.warehouse, read_only=True) as con:
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day")
    as_of = flow_world.end
    fresh = refresh_forecasts(home, kpis, as_of, Forecasts(), refit=True, bootstrap=2)
    assert fresh.curves == {} and fresh.curve_rows.empty and "draw" in fresh.curve_rows
    (fit,) = [e for e in read_entries(home) if e.get("kind") == "model_fit"]
    assert fit["model_version"].startswith("mmm-") and str(fit["as_of"]) == str(as_of)
    assert fit["diagnostics"]["ok"] is False
    candidates = pd.DataFrame(columns=["audience_id"])
    turn = decide_turn(home, as_of, kpis, fresh, candidates, [], 1, "t", plan_budget=True)
    assert turn.batch.empty

    settings.write_text("forecasting:\n  response_model: attributed\n")
    attributed = refresh_forecasts(home, kpis, as_of, Forecasts(), refit=True, bootstrap=2)
    assert set(attributed.curves) == {"paid_search", "display", "paid_social"}
    assert attributed.curve_rows["model_version"].str.startswith("adstock-hill").all()
