"""`marketing-ops rollback BATCH_ID` on a real DuckDB warehouse: the channels go back to the
previous batch's allocations through the connector, once, and it is all on record."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner
from worlds.decisions import CURVES, budget_plan

from marketing_ops.cli import app
from marketing_ops.decisioning import AutonomyState, assemble_batch, read_approvals
from marketing_ops.execution.rollback import plan_rollback
from marketing_ops.warehouse import connect, read_table, replace_partition

PREVIOUS_DAY, CURRENT_DAY = date(2026, 11, 16), date(2026, 11, 23)
PREVIOUS_DAILY_SPEND = 300.0  # each channel, the week before the older batch


def _executed(batch: pd.DataFrame, day: date) -> pd.DataFrame:
    b = batch.copy()
    b.loc[b["status"] == "approved", "status"] = "executed"
    b["created_at"] = pd.Timestamp(day)
    return b.assign(as_of=day)


@pytest.fixture
def warehouse(home, policies, full_batch):
    """Two executed batches a week apart, the older with a different budget split."""
    plan = budget_plan(policies, daily_spend=dict.fromkeys(CURVES, PREVIOUS_DAILY_SPEND))
    previous = assemble_batch(PREVIOUS_DAY, plan, None, policies, [], AutonomyState())
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.decisions", _executed(previous, PREVIOUS_DAY), PREVIOUS_DAY)
        replace_partition(con, "agent.decisions", _executed(full_batch, CURRENT_DAY), CURRENT_DAY)
    return previous, full_batch


def _rollback(home, batch_id, *extra):
    return CliRunner().invoke(
        app, ["rollback", batch_id, "--as", "Head of Marketing", "--home", str(home.root), *extra]
    )


def _outbox(home) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in home.outbox.rglob("R-*.json")}


def test_rollback_restores_the_previous_allocations(home, warehouse) -> None:
    """Every executed budget action of the batch gets a restore action at the previous
    batch's amount for its channel, delivered once; sends and send times get a cancel; the batch's actions
    become rolled_back; the restore actions are approved in the ledger in the person's name;
    agent.rollbacks and ledger/rollbacks.jsonl say what happened."""
    previous, current = warehouse
    batch_id = current["batch_id"].iloc[0]
    result = _rollback(home, batch_id, "--reason", "bad week")
    assert result.exit_code == 0, result.output

    sent = _outbox(home)
    before = previous[previous["action_type"] == "budget_allocation"].set_index("channel")["amount"]
    budget = {p["channel"]: p for p in sent.values() if p["action_type"] == "budget_allocation"}
    assert set(budget) == set(CURVES)
    for channel, payload in budget.items():
        assert payload["amount_eur"] == pytest.approx(before[channel])
        assert sum(d["amount"] for d in payload["daily_amounts"]) == pytest.approx(
            before[channel], abs=0.05
        )
    executed_content = current[
        (current["action_type"] != "budget_allocation") & (current["status"] == "approved")
    ]
    cancels = [p for p in sent.values() if p["action_type"] == "cancel"]
    assert {c["applies_to"] for c in cancels} == set(executed_content["decision_id"])

    with connect(home.warehouse, read_only=True) as con:
        decisions = read_table(con, "agent.decisions")
        records = read_table(con, "agent.rollbacks")
    now = decisions[decisions["batch_id"] == batch_id]
    was_executed = set(current.loc[current["status"] == "approved", "decision_id"])
    assert set(now.loc[now["status"] == "rolled_back", "decision_id"]) == was_executed
    assert set(decisions.loc[decisions["batch_id"] != batch_id, "status"]) <= {
        "executed",
        "pending_approval",
        "blocked",
        "proposed",
        "rejected",
    }
    assert set(records["decision_id"]) == set(sent) and records["delivered"].all()
    assert (records["restored_from"] == previous["batch_id"].iloc[0]).sum() == len(CURVES)
    approved = {e["decision_id"] for e in read_approvals(home) if e["verdict"] == "approved"}
    assert set(sent) <= approved
    log = (home.ledger / "rollbacks.jsonl").read_text().splitlines()
    assert len(log) == 1 and json.loads(log[0])["reason"] == "bad week"


def test_rolling_back_twice_sends_nothing_more(home, warehouse) -> None:
    """The second rollback finds nothing executed to undo and the outbox is unchanged."""
    batch_id = warehouse[1]["batch_id"].iloc[0]
    assert _rollback(home, batch_id).exit_code == 0
    files = {p.name: p.stat().st_mtime_ns for p in home.outbox.rglob("*.json")}
    again = _rollback(home, batch_id)
    assert again.exit_code == 2 and "no executed action" in again.output
    assert {p.name: p.stat().st_mtime_ns for p in home.outbox.rglob("*.json")} == files


def test_dry_run_changes_nothing(home, warehouse) -> None:
    batch_id = warehouse[1]["batch_id"].iloc[0]
    result = _rollback(home, batch_id, "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.output
    assert _outbox(home) == {}
    with connect(home.warehouse, read_only=True) as con:
        assert "rolled_back" not in set(read_table(con, "agent.decisions")["status"])


def test_only_an_approver_may_roll_back(home, warehouse) -> None:
    batch_id = warehouse[1]["batch_id"].iloc[0]
    result = CliRunner().invoke(
        app, ["rollback", batch_id, "--as", "intern", "--home", str(home.root)]
    )
    assert result.exit_code == 2 and "refused" in result.output and _outbox(home) == {}


def test_first_batch_falls_back_to_last_period_spend(warehouse) -> None:
    """The oldest batch has no earlier one: its channels go back to the spend of the period
    before it, which its rationale recorded (a week at PREVIOUS_DAILY_SPEND each)."""
    previous, current = warehouse
    decisions = pd.concat([_executed(previous, PREVIOUS_DAY), _executed(current, CURRENT_DAY)])
    plan = plan_rollback(decisions, previous["batch_id"].iloc[0])
    budget = plan.actions[plan.actions["action_type"] == "budget_allocation"]
    assert budget["amount"].tolist() == [7 * PREVIOUS_DAILY_SPEND] * len(CURVES)
    assert set(plan.restored_from.values()) == {"last period spend"}
