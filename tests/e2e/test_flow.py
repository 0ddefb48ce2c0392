"""The whole decision loop, for real: simulator files -> Dagster -> DuckDB, dbt, GX, Kuzu,
Prophet, optimiser, sandbox outbox, measurement, learning."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from marketing_ops.runner import DECIDE_JOB, prepare_instance, run_job
from marketing_ops.warehouse import connect

GROUP_ASSETS = {
    "signals": [
        ["raw", "ga4"],
        ["raw", "google_ads"],
        ["raw", "meta_ads"],
        ["raw", "crm_deals"],
        ["raw", "crm_contacts"],
        ["raw", "email_events"],
        ["raw", "offline_conversions"],
        ["raw", "content_assets"],
    ],
    "warehouse": [
        ["marts", "fct_ad_spend_daily"],
        ["marts", "fct_conversions"],
        ["marts", "fct_channel_kpis_daily"],
    ],
    "knowledge_graph": [["graph", "knowledge_graph"]],
    "forecasts": [["forecasts", "baselines"], ["forecasts", "response_curves"]],
    "decisions": [["decisions", "decision_batch"]],
    "execution": [["execution", "executed_actions"]],
    "measurement": [["measurement", "decision_outcomes"]],
    "learning": [["learning", "forecast_error"]],
}

COUNTED_TABLES = [
    "raw.ga4_events",
    "raw.google_ads",
    "raw.meta_ads",
    "raw.crm_deals",
    "raw.crm_contacts",
    "raw.email_events",
    "raw.offline_conversions",
    "raw.content_assets",
    "raw.file_log",
    "marts.fct_ad_spend_daily",
    "marts.fct_conversions",
    "marts.fct_channel_kpis_daily",
    "agent.forecasts",
    "agent.decisions",
    "agent.executions",
]


def _counts(home) -> dict[str, int]:
    with connect(home.warehouse, read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in COUNTED_TABLES}


def test_every_run_succeeds(flow_world) -> None:
    """Both halves of the flow run without a failed or skipped step."""
    assert [o.job for o in flow_world.outcomes] == ["ingest_and_model", "decide_and_act"]
    for o in flow_world.outcomes:
        assert o.success, (o.job, o.failed_steps)
        assert o.skipped_steps == []


@pytest.mark.parametrize("group", sorted(GROUP_ASSETS))
def test_every_group_is_materialised(flow_world, group) -> None:
    """Each asset group of DESIGN.md has real materialisations recorded in the instance."""
    instance = prepare_instance(flow_world.home)
    for key in GROUP_ASSETS[group]:
        event = instance.get_latest_materialization_event(dg.AssetKey(key))
        assert event is not None, f"{key} was never materialised"


def test_daily_facts_say_which_days_the_run_built(flow_world) -> None:
    """One dbt step builds daily facts and whole-rebuilt models together: the daily facts'
    events carry the run's window, the others' none (they hold no days of their own)."""
    from marketing_ops.defs.warehouse.assets import DAILY_MODELS

    instance = prepare_instance(flow_world.home)
    daily = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_touchpoints"]))
    whole = instance.get_latest_materialization_event(dg.AssetKey(["marts", "dim_channel"]))
    assert {"fct_touchpoints", "fct_conversions"} <= DAILY_MODELS
    assert "dim_channel" not in DAILY_MODELS
    meta = daily.asset_materialization.metadata
    assert (meta["window_start"].value, meta["window_end"].value) == (
        flow_world.start.isoformat(),
        flow_world.end.isoformat(),
    )
    assert "window_start" not in whole.asset_materialization.metadata


def test_marts_cover_every_channel_and_day(flow_world) -> None:
    """KPIs are zero-filled per channel and day over the whole simulated window."""
    with connect(flow_world.home.warehouse, read_only=True) as con:
        days, channels, rows = con.execute(
            "select count(distinct date_day), count(distinct channel), count(*) "
            "from marts.fct_channel_kpis_daily where date_day between ? and ?",
            [flow_world.start, flow_world.end],
        ).fetchone()
    assert days == (flow_world.end - flow_world.start).days + 1
    assert channels >= 4
    assert rows == days * channels


def test_decision_batch_has_budget_and_content_with_rationale(flow_world) -> None:
    """The batch holds a budget per paid channel and content per audience, each with a
    rationale naming its inputs' data versions and at least one alternative."""
    with connect(flow_world.home.warehouse, read_only=True) as con:
        batch = con.execute("select * from agent.decisions").df()
    assert {"budget_allocation", "content_selection"} <= set(batch["action_type"])
    budget = batch[batch["action_type"] == "budget_allocation"]
    assert {"paid_search", "paid_social", "display"} <= set(budget["channel"])
    assert (budget["amount"] >= 0).all()
    for text in batch["rationale"]:
        rationale = json.loads(text)
        assert rationale["alternatives"], "every action needs a runner-up"
        assert all(s["data_version"] not in ("", "missing") for s in rationale["signals"])


def test_approved_actions_reach_the_outbox_once(flow_world) -> None:
    """Executed actions are in the sandbox outbox, one file per decision id, and only those."""
    with connect(flow_world.home.warehouse, read_only=True) as con:
        executed = con.execute(
            "select decision_id, channel from agent.decisions where status = 'executed'"
        ).fetchall()
        not_executed = con.execute(
            "select decision_id from agent.decisions where status <> 'executed'"
        ).fetchall()
    files = {p.stem for p in flow_world.home.outbox.rglob("*.json")}
    assert executed, "the demo policy executes at least the below-threshold actions"
    assert {d for d, _ in executed} <= files
    assert not ({d for (d,) in not_executed} & files)


def _batches(home, day) -> list[str]:
    with connect(home.warehouse, read_only=True) as con:
        rows = con.execute(
            "select distinct batch_id from agent.decisions where as_of = ?", [day]
        ).fetchall()
    return sorted(r[0] for r in rows)


def test_rerunning_is_idempotent(flow_world) -> None:
    """Re-running the last day through both jobs changes no row count anywhere but the
    decisions, where the re-decision is kept as one more batch beside the earlier one (issue
    18), and sends nothing twice; tool output goes to the run log, not stdout."""
    before = _counts(flow_world.home)
    batches_before = _batches(flow_world.home, flow_world.end)
    outbox_before = sorted(p.name for p in flow_world.home.outbox.rglob("*.json"))
    instance = prepare_instance(flow_world.home)
    log = flow_world.home.logs / "rerun.log"
    for job in ("ingest_and_model", DECIDE_JOB):
        outcome = run_job(instance, job, flow_world.end, flow_world.end, output=log)
        assert outcome.success, outcome.failed_steps
    assert "Running with dbt" in log.read_text()  # dbt's stream went to the file
    after = _counts(flow_world.home)
    batches_after = _batches(flow_world.home, flow_world.end)
    assert len(batches_after) == len(batches_before) + 1
    assert set(batches_before) < set(batches_after)
    decided = after.pop("agent.decisions") - before.pop("agent.decisions")
    assert decided > 0  # the new batch's rows; the earlier batch's rows are all still there
    # Execution records the new batch's rows too, and none of them is executed again: what
    # repeats an executed action is blocked (naming it), the rest waits or is superseded.
    assert after.pop("agent.executions") - before.pop("agent.executions") == decided
    (new_batch,) = set(batches_after) - set(batches_before)
    with connect(flow_world.home.warehouse, read_only=True) as con:
        statuses = {
            s
            for (s,) in con.execute(
                "select status from agent.executions where batch_id = ?", [new_batch]
            ).fetchall()
        }
    assert "executed" not in statuses and "blocked" in statuses
    assert after == before
    assert sorted(p.name for p in flow_world.home.outbox.rglob("*.json")) == outbox_before
