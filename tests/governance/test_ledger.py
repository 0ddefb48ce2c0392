"""The decision ledger: every batch is recorded with its inputs, chained by hash; editing any
entry, a payload it names, or the warehouse's copy of a batch is caught by the library and by
`marketing-ops audit verify` (exit 1, naming what was tampered with)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner
from worlds.decisions import AS_OF, inputs, record_day

from marketing_ops.cli import app
from marketing_ops.decisioning import LedgerTampered
from marketing_ops.decisioning.ledger.decisions import payload_path, read_entries, verify_ledger
from marketing_ops.governance import audit
from marketing_ops.warehouse import connect

runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # rich tables on one line each


def _verify(home):
    return runner.invoke(app, ["audit", "verify", "--home", str(home.root)], env=WIDE)


def _rewrite_line(home, n: int, edit) -> None:
    path = home.ledger / "decisions.jsonl"
    lines = path.read_text().splitlines()
    entry = json.loads(lines[n])
    edit(entry)
    lines[n] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")


def test_entry_records_versions_inputs_and_replays(recorded) -> None:
    """An entry names the batch, its decisions, the policy version, the input data versions
    and a payload per input frame and policy file, and was replayed bit for bit at once."""
    entry, batch = recorded.entry, recorded.batch
    assert entry["seq"] == 1 and entry["kind"] == "decision_batch"
    assert entry["batch_id"] == batch["batch_id"].iloc[0]
    assert entry["decision_ids"] == sorted(batch["decision_id"])
    assert [s["data_version"] for s in entry["inputs"]] == ["kpis-v1", "graph-v1"]
    assert {"inputs/kpis", "inputs/curve_rows", "policies/budget.yaml", "batch"} <= set(
        entry["payloads"]
    )
    assert entry["replay_verified"] is True
    check = verify_ledger(recorded.home)
    assert check.ok and check.entries == 1 and check.payloads_checked == len(entry["payloads"])


def test_untampered_trail_passes_the_cli(recorded) -> None:
    record_day(recorded.home, inputs(), AS_OF.replace(day=24))  # a second, chained entry
    result = _verify(recorded.home)
    assert result.exit_code == 0, result.output
    assert "TAMPERED" not in result.output
    assert "2 entries (2 batches" in result.output


@pytest.mark.parametrize("line", [0, 1])
def test_editing_one_entry_is_detected(recorded, line) -> None:
    """One number changed in one entry (first or last): the chain breaks at that line."""
    record_day(recorded.home, inputs(), AS_OF.replace(day=24))
    _rewrite_line(recorded.home, line, lambda e: e.update(actions=e["actions"] + 1))
    with pytest.raises(LedgerTampered, match=f"line {line + 1}: content does not match"):
        read_entries(recorded.home)
    assert not audit(recorded.home).ok
    result = _verify(recorded.home)
    assert result.exit_code == 1
    assert "TAMPERED" in result.output and f"line {line + 1}" in result.output


def test_rehashed_entry_still_breaks_the_chain(recorded) -> None:
    """Whoever edits an entry and recomputes its own hash breaks the next entry's link."""
    from marketing_ops.decisioning.ledger.chain import chain_hash as _chain

    record_day(recorded.home, inputs(), AS_OF.replace(day=24))

    def forge(entry: dict) -> None:
        entry["policy_version"] = "forged"
        body = {k: v for k, v in entry.items() if k != "hash"}
        entry["hash"] = _chain(entry["prev_hash"], body)

    _rewrite_line(recorded.home, 0, forge)
    with pytest.raises(LedgerTampered, match="line 2: does not follow line 1"):
        read_entries(recorded.home)
    assert _verify(recorded.home).exit_code == 1


def test_deleted_entry_is_detected(recorded) -> None:
    record_day(recorded.home, inputs(), AS_OF.replace(day=24))
    path = recorded.home.ledger / "decisions.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[1] + "\n")
    result = _verify(recorded.home)
    assert result.exit_code == 1 and "does not follow" in result.output


def test_altered_payload_is_detected(recorded) -> None:
    """The chain holds payload hashes: an input frame edited on disk is caught."""
    ref = recorded.entry["payloads"]["inputs/kpis"]
    path = payload_path(recorded.home, ref)
    path.write_bytes(path.read_bytes()[:-8] + b"tampered")
    check = verify_ledger(recorded.home)
    assert not check.ok and any(ref in p and "altered" in p for p in check.problems)
    result = _verify(recorded.home)
    assert result.exit_code == 1 and "altered" in result.output


def test_warehouse_edit_is_detected(recorded) -> None:
    """An amount edited in agent.decisions no longer matches the batch the ledger recorded."""
    decision = recorded.batch.loc[
        recorded.batch["action_type"] == "budget_allocation", "decision_id"
    ].iloc[0]
    with connect(recorded.home.warehouse) as con:
        con.execute(
            "update agent.decisions set amount = amount + 1000 where decision_id = ?", [decision]
        )
    report = audit(recorded.home)
    failed = [c for c in report.checks if not c.ok]
    assert [c.name for c in failed] == ["warehouse batches match the ledger"]
    result = _verify(recorded.home)
    assert result.exit_code == 1 and "differ from the batch the ledger recorded" in result.output


def test_status_changes_after_recording_are_not_tampering(recorded) -> None:
    """Approvals, execution and a later batch change a recorded action's status and the reason
    for it; the audit still passes, while the decided amount stays checked (test above)."""
    decision = recorded.batch["decision_id"].iloc[0]
    with connect(recorded.home.warehouse) as con:
        con.execute(
            "update agent.decisions set status = 'superseded', rationale = json_merge_patch("
            'rationale, \'{"autonomy": {"status_reason": "superseded by a later batch"}}\')'
            " where decision_id = ?",
            [decision],
        )
    report = audit(recorded.home)
    assert [c.name for c in report.checks if not c.ok] == []
