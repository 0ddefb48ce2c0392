"""Governance through the real paths: a batch in a real DuckDB, executed by the Dagster
execution asset, approved and switched off through the Dagster jobs (the UI's Launchpad runs
these) and through the CLI, explained and exported by the CLI.

Proves: an above-threshold action never executes without approval; a rejected action never
executes; the kill switch stops an already approved batch; a policy file with an error is
refused naming file and field; every exported row has a rationale with an alternative.
"""

from __future__ import annotations

import io
import json

import dagster as dg
import pandas as pd
import pytest
from typer.testing import CliRunner
from worlds.decisions import AS_OF, build_batch, with_autonomy

from marketing_ops.cli import app
from marketing_ops.decisioning import DECISION_COLUMNS, read_approvals
from marketing_ops.decisioning.ledger.decisions import read_entries
from marketing_ops.defs._shared import ConnectorsResource, StoreResource
from marketing_ops.defs.decisions.approvals import record_approval, set_autonomy
from marketing_ops.defs.decisions.assets import decision_batch
from marketing_ops.defs.execution.assets import executed_actions
from marketing_ops.warehouse import connect, replace_partition

runner = CliRunner()


@pytest.fixture
def store(home) -> StoreResource:
    return StoreResource(home_root=str(home.root))


def _store_batch(home, batch: pd.DataFrame) -> None:
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.decisions", batch.assign(as_of=AS_OF), AS_OF)


def _decisions(home) -> pd.DataFrame:
    with connect(home.warehouse, read_only=True) as con:
        return con.execute("select * from agent.decisions").df().set_index("decision_id")


def _outbox(home) -> set[str]:
    return {p.stem for p in home.outbox.rglob("*.json")}


def _execute(store: StoreResource) -> None:
    result = dg.materialize(
        [executed_actions],
        partition_key=AS_OF.isoformat(),
        resources={"store": store, "connectors": ConnectorsResource()},
    )
    assert result.success


def _job(job, store: StoreResource, op: str, config: dict) -> dg.ExecuteInProcessResult:
    return job.execute_in_process(
        run_config={"ops": {op: {"config": config}}},
        resources={"store": store},
        raise_on_error=False,
    )


def test_above_threshold_waits_until_approved_in_the_ui(home, policies, store) -> None:
    """Pending actions stay out of the outbox through an execution run; once a named
    approver approves one through the record_approval job, the next run sends it (and only
    the actions that are approved)."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold"))
    pending = batch.loc[batch["status"] == "pending_approval", "decision_id"].tolist()
    auto = set(batch.loc[batch["status"] == "approved", "decision_id"])
    assert pending and auto
    _store_batch(home, batch)
    _execute(store)
    assert _outbox(home) == auto
    assert set(_decisions(home).loc[pending, "status"]) == {"pending_approval"}

    target = pending[0]
    run = _job(
        record_approval,
        store,
        "approval_verdict",
        {"decision_id": target, "verdict": "approve", "approver": "Head of Marketing"},
    )
    assert run.success
    assert read_approvals(home)[-1]["decision_id"] == target
    _execute(store)
    assert _outbox(home) == auto | {target}
    assert _decisions(home).loc[target, "status"] == "executed"
    assert set(_decisions(home).loc[pending[1:], "status"]) == {"pending_approval"}


@pytest.mark.parametrize(
    ("approver", "message"),
    [
        ("Mallory", "'Mallory' is not an approver in roles.yaml"),
        ("CRM Manager", "may approve content_selection, send_time in roles.yaml, not budget"),
    ],
)
def test_ui_approval_by_the_wrong_person_is_refused(
    home, policies, store, approver, message
) -> None:
    """The approval job fails with the reason and writes nothing to the ledger."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold"))
    _store_batch(home, batch)
    budget = batch.loc[batch["action_type"] == "budget_allocation", "decision_id"].iloc[0]
    run = _job(
        record_approval,
        store,
        "approval_verdict",
        {"decision_id": budget, "verdict": "approve", "approver": approver},
    )
    assert not run.success
    failure = run.get_step_failure_events()[0].event_specific_data.error
    assert message in failure.message
    assert read_approvals(home) == []


def test_rejected_action_never_executes(home, policies, store) -> None:
    """An auto-approved action rejected from the CLI is not sent, and stays rejected."""
    batch = build_batch(with_autonomy(policies, "full"))
    _store_batch(home, batch)
    # a content action: a rejected budget cut would also hold the increases it funds
    # (the total-budget guardrail, tested in test_budget_guardrail.py)
    target = batch.loc[batch["action_type"] == "content_selection", "decision_id"].iloc[0]
    out = runner.invoke(
        app, ["reject", target, "--as", "Head of Marketing", "--home", str(home.root)]
    )
    assert out.exit_code == 0, out.output
    _execute(store)
    assert target not in _outbox(home)
    assert _outbox(home) == set(batch["decision_id"]) - {target}
    assert _decisions(home).loc[target, "status"] == "rejected"


def test_kill_switch_stops_an_approved_batch(home, policies, store) -> None:
    """Every action approved, then the kill switch from the UI job: nothing is sent; lifting
    it sends the batch."""
    batch = build_batch(with_autonomy(policies, "full"))
    assert set(batch["status"]) == {"approved"}
    _store_batch(home, batch)
    run = _job(set_autonomy, store, "autonomy_switch", {"level": "off", "who": "Head of Marketing"})
    assert run.success
    _execute(store)
    assert _outbox(home) == set()
    assert set(_decisions(home)["status"]) == {"approved"}
    assert _job(
        set_autonomy, store, "autonomy_switch", {"level": "policy", "who": "Head of Marketing"}
    ).success
    _execute(store)
    assert _outbox(home) == set(batch["decision_id"])


def test_broken_policy_file_is_refused_naming_file_and_field(home, store) -> None:
    """The decision asset refuses to decide on a policy file with an error, and the message
    names the file and the field; no batch is written."""
    (home.policies / "budget.yaml").write_text("budget:\n  max_shift_pct: lots\n")
    result = dg.materialize(
        [decision_batch],
        partition_key=AS_OF.isoformat(),
        resources={"store": store},
        raise_on_error=False,
    )
    assert not result.success
    error = result.get_step_failure_events()[0].event_specific_data.error
    text = error.message + "".join(c.message for c in ([error.cause] if error.cause else []))
    assert "policies/budget.yaml: budget.max_shift_pct" in text
    # refused before reading anything: no warehouse written, nothing on the ledger
    assert not home.warehouse.exists()
    assert read_entries(home) == []


def test_export_and_explain_every_row(home, policies) -> None:
    """`decisions --format json|csv` gives exactly the contract, statuses as the ledger
    stands, a rationale with at least one alternative on every row; `explain` shows the
    alternatives with their differences, the signals' data versions and the ledger."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold"))
    _store_batch(home, batch)
    pending = batch.loc[batch["status"] == "pending_approval", "decision_id"].iloc[0]
    runner.invoke(app, ["approve", pending, "--as", "Head of Marketing", "--home", str(home.root)])
    out = runner.invoke(
        app, ["decisions", "--batch", "latest", "--format", "json", "--home", str(home.root)]
    )
    assert out.exit_code == 0, out.output
    records = json.loads(out.output)
    assert len(records) == len(batch)
    for rec in records:
        assert list(rec) == DECISION_COLUMNS
        assert rec["rationale"]["alternatives"], rec["decision_id"]
        assert all("difference" in a for a in rec["rationale"]["alternatives"])
    assert {r["decision_id"]: r["status"] for r in records}[pending] == "approved"
    csv = runner.invoke(
        app, ["decisions", "--batch", "latest", "--format", "csv", "--home", str(home.root)]
    )
    frame = pd.read_csv(io.StringIO(csv.output))
    assert list(frame.columns) == DECISION_COLUMNS and len(frame) == len(batch)
    assert all(json.loads(t)["alternatives"] for t in frame["rationale"])

    text = runner.invoke(app, ["explain", pending, "--home", str(home.root)]).output
    assert pending in text and "Alternatives (counterfactuals)" in text
    assert "`kpis-v1`" in text and "`graph-v1`" in text
    assert "approved by Head of Marketing" in text and "`approved`" in text
    row = json.loads(
        runner.invoke(
            app, ["explain", pending, "--format", "json", "--home", str(home.root)]
        ).output
    )
    assert row[0]["decision_id"] == pending
    missing = runner.invoke(app, ["explain", "D-19990101-00000000", "--home", str(home.root)])
    assert missing.exit_code != 0 and "no decision" in missing.output
