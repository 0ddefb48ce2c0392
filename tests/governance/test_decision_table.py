"""`marketing-ops decisions` reads at 80 columns: each decision on two lines (id and status,
action and a short reason), nothing wider than the terminal, no `nan` for empty cells, and
the reasons a decision waits for a person in words; `--wide` has every column."""

from __future__ import annotations

from typer.testing import CliRunner

from marketing_ops.cli import app

runner = CliRunner()


def _table(recorded, *options: str, columns: int = 80) -> list[str]:
    result = runner.invoke(
        app,
        ["decisions", "--home", str(recorded.home.root), *options],
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_compact_table_fits_80_columns_two_lines_per_decision(recorded) -> None:
    lines = _table(recorded)
    batch = recorded.batch
    assert max(len(line) for line in lines) <= 80
    assert not any("nan" in line.split() for line in lines)
    for decision in batch.itertuples():
        (at,) = [k for k, line in enumerate(lines) if decision.decision_id in line]
        assert lines[at + 1].split()[0] == decision.status  # status whole, right below
    rows = [line for line in lines if line.strip().startswith("D-")]
    body = lines[lines.index(next(line for line in lines if "───" in line)) + 1 :]
    assert len(rows) == len(batch) and len([b for b in body if b.strip()]) == 2 * len(batch)


def test_waiting_decisions_say_what_they_wait_for(recorded) -> None:
    lines = _table(recorded, columns=120)
    pending = recorded.batch[recorded.batch["status"] == "pending_approval"]
    assert len(pending)
    for decision_id in pending["decision_id"]:
        (at,) = [k for k, line in enumerate(lines) if decision_id in line]
        assert "waits: " in lines[at + 1]


def test_wide_table_has_every_decision_and_no_nan(recorded) -> None:
    text = "\n".join(_table(recorded, "--wide", columns=250))
    assert "nan" not in text.split()
    assert all(decision_id in text for decision_id in recorded.batch["decision_id"])


def test_deciding_a_day_again_keeps_both_batches_exportable(recorded) -> None:
    """A second decision for the same day makes a new batch; `decisions --list` shows both and
    `--batch` exports either, the earlier one with its open actions superseded."""
    import json

    from worlds.decisions import record_day

    second, _ = record_day(recorded.home)
    first_id, second_id = recorded.batch["batch_id"].iloc[0], second["batch_id"].iloc[0]
    assert first_id != second_id
    listing = json.loads("\n".join(_table(recorded, "--list", "--format", "json")))
    assert [b["batch_id"] for b in listing] == [first_id, second_id]
    assert [b["current"] for b in listing] == [False, True]
    for batch_id, expected in ((first_id, recorded.batch), (second_id, second)):
        rows = json.loads("\n".join(_table(recorded, "--batch", batch_id, "--format", "json")))
        assert sorted(r["decision_id"] for r in rows) == sorted(expected["decision_id"])
    earlier = json.loads("\n".join(_table(recorded, "--batch", first_id, "--format", "json")))
    assert "superseded" in {r["status"] for r in earlier}
    result = runner.invoke(app, ["decisions", "--home", str(recorded.home.root), "--batch", "B-x"])
    assert result.exit_code == 2 and "no batch 'B-x'" in result.output
