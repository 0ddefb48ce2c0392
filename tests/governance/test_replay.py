"""Replay: a past batch decided again from what its ledger entry recorded (input frames,
policy files, autonomy, signals) is the same batch to the byte; `replay --diff` shows what
today's policy would have done differently, and a recorded input that was altered is refused
rather than replayed."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.decisioning import LedgerTampered
from marketing_ops.decisioning.batch.replay import batch_digest, policy_diff, replay_batch
from marketing_ops.decisioning.ledger.decisions import payload_path

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _replay(home, *args: str):
    return runner.invoke(app, ["replay", *args, "--home", str(home.root)], env=WIDE)


def test_replay_reproduces_the_batch_bit_for_bit(recorded) -> None:
    """Same actions, ids, amounts, statuses and rationale: the export bytes are identical,
    and so is every number of the frame."""
    batch_id = recorded.entry["batch_id"]
    result = replay_batch(recorded.home, batch_id)
    assert result.identical
    recorded_bytes, digest = batch_digest(recorded.batch)
    assert digest == recorded.entry["batch_sha256"] == result.digest
    assert batch_digest(result.batch)[0] == recorded_bytes
    a = recorded.batch.sort_values("decision_id").reset_index(drop=True)
    b = result.batch.sort_values("decision_id").reset_index(drop=True)
    assert list(a["decision_id"]) == list(b["decision_id"])
    assert (a["amount"].fillna(-1).to_numpy() == b["amount"].fillna(-1).to_numpy()).all()
    assert (a["rationale"] == b["rationale"]).all()

    out = _replay(recorded.home, batch_id)
    assert out.exit_code == 0, out.output
    assert "Reproduced bit for bit" in out.output and digest in out.output


def test_unknown_batch_is_an_error(recorded) -> None:
    out = _replay(recorded.home, "B-19990101-nope")
    assert out.exit_code == 1 and "no ledger entry for batch" in out.output


def test_altered_input_is_refused_not_replayed(recorded) -> None:
    path = payload_path(recorded.home, recorded.entry["payloads"]["inputs/curve_rows"])
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(LedgerTampered, match="altered"):
        replay_batch(recorded.home, recorded.entry["batch_id"])


def test_same_policy_means_no_difference(recorded) -> None:
    diff = policy_diff(recorded.home, recorded.entry["batch_id"], recorded.home.policies)
    assert diff.same and not diff.file_changes
    out = _replay(recorded.home, recorded.entry["batch_id"], "--diff")
    assert out.exit_code == 0, out.output
    assert "policy files are unchanged" in out.output
    assert "would have decided exactly the same actions" in out.output


def test_diff_shows_what_todays_policy_would_change(recorded) -> None:
    """Locking paid_search today (it keeps last period's 2,800 EUR) changes its budget row
    and the others' (the total is kept); the diff names the file change and the actions."""
    budget = recorded.home.policies / "budget.yaml"
    text = budget.read_text()
    assert "locked_channels: []" in text
    budget.write_text(text.replace("locked_channels: []", "locked_channels: [paid_search]"))

    batch_id = recorded.entry["batch_id"]
    replay = replay_batch(recorded.home, batch_id)
    assert replay.identical  # the recorded policy files, not today's, drive a replay

    diff = policy_diff(recorded.home, batch_id, recorded.home.policies)
    assert not diff.same
    assert diff.recorded_version != diff.today_version
    assert any(
        "+  locked_channels: [paid_search]" in line for line in diff.file_changes["budget.yaml"]
    )
    changed = diff.changes.set_index("channel")
    then = recorded.batch[
        (recorded.batch["action_type"] == "budget_allocation")
        & (recorded.batch["channel"] == "paid_search")
    ]["amount"].item()
    assert then != pytest.approx(2800.0, abs=0.01)  # the optimiser had moved it
    assert "amount" in changed.loc["paid_search", "change"]
    assert "2,800 EUR" in changed.loc["paid_search", "today"]

    out = _replay(recorded.home, batch_id, "--diff")
    assert out.exit_code == 0, out.output
    assert "Reproduced bit for bit" in out.output
    assert "locked_channels: [paid_search]" in out.output
    assert "What today's policy would do differently" in out.output
    assert re.search(r"budget_allocation: paid_search.*amount", out.output)
