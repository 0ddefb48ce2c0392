"""The roles file decides who may approve: through the CLI, an approver it does not list is
refused, as is a listed one whose role does not cover the action; nothing reaches the
approval ledger for them, and a covered approver's verdict does."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.decisioning import read_approvals

runner = CliRunner()


def _pending(recorded, action_type: str) -> str:
    batch = recorded.batch
    rows = batch[(batch["action_type"] == action_type)]
    assert len(rows)
    pending = rows[rows["status"] == "pending_approval"]
    return str((pending if len(pending) else rows)["decision_id"].iloc[0])


def _approve(recorded, decision_id: str, who: str):
    return runner.invoke(
        app,
        ["approve", decision_id, "--as", who, "--home", str(recorded.home.root)],
        env={"COLUMNS": "200"},
    )


@pytest.mark.parametrize(
    ("who", "action_type", "why"),
    [
        ("Mallory Intruder", "budget_allocation", "is not an approver in roles.yaml"),
        ("Head Of Marketing ", "budget_allocation", "is not an approver in roles.yaml"),
        ("Performance Lead", "content_selection", "not content_selection"),
        ("CRM Manager", "budget_allocation", "not budget_allocation"),
    ],
)
def test_approver_outside_the_roles_file_is_refused(recorded, who, action_type, why) -> None:
    decision = _pending(recorded, action_type)
    result = _approve(recorded, decision, who)
    out = result.output
    assert result.exit_code == 2, out
    assert "refused" in out and why in out
    assert read_approvals(recorded.home) == []


def test_listed_approver_is_recorded(recorded) -> None:
    decision = _pending(recorded, "budget_allocation")
    result = _approve(recorded, decision, "Performance Lead")
    assert result.exit_code == 0, result.output
    (entry,) = read_approvals(recorded.home)
    assert (entry["decision_id"], entry["approver"], entry["verdict"]) == (
        decision,
        "Performance Lead",
        "approved",
    )
