"""`marketing-ops explain DECISION_ID`: why the agent decided what it did, in words.

Registered on the main CLI by one line in :mod:`marketing_ops.cli`.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.markdown import Markdown

from marketing_ops.config import data_home

console = Console()


class ExplainFormat(StrEnum):
    markdown = "markdown"
    json = "json"


def explain(
    decision_id: str = typer.Argument(..., help="Decision id (D-...)."),
    fmt: ExplainFormat = typer.Option(
        ExplainFormat.markdown, "--format", help="markdown (rendered) or json (the export row)."
    ),
    lineage: bool = typer.Option(
        False,
        "--lineage",
        help="Walk back through the decision ledger to the archived source files (hashes).",
    ),
    files: bool = typer.Option(False, "--files", help="With --lineage: list every source file."),
    home: Path | None = typer.Option(
        None, "--home", help="Data home (default: $MARKETING_OPS_HOME or ./data_home)."
    ),
) -> None:
    """Explain one decision: expected outcome with intervals, binding constraints, the
    alternatives and the expected difference to each, signals with data versions, the graph
    path, and its approvals (status as the ledger stands now). With --lineage: its ledger
    entry, code, policy and model versions, every upstream asset with its Dagster data
    version, and the archived source files with their content hashes re-checked."""
    from marketing_ops.decisioning import (
        apply_approvals,
        export_batch,
        rationale_markdown,
        read_approvals,
    )
    from marketing_ops.warehouse import connect, read_table

    h = data_home(home).ensure()
    if not h.warehouse.exists():
        console.print("No decisions yet: run `marketing-ops demo` or `marketing-ops run`.")
        raise typer.Exit(1)
    with connect(h.warehouse, read_only=True) as con:
        frame = read_table(con, "agent.decisions")
    rows = frame[frame["decision_id"] == decision_id] if len(frame) else frame
    if rows.empty:
        raise typer.BadParameter(f"DECISION_ID: no decision {decision_id!r}")
    ledger = read_approvals(h)
    row = apply_approvals(rows.tail(1), ledger)
    if fmt is ExplainFormat.json:
        sys.stdout.write(export_batch(row, "json"))
        return
    text = rationale_markdown(row.iloc[0].to_dict(), ledger, heading="#")
    if sys.stdout.isatty():
        console.print(Markdown(text))
    else:
        sys.stdout.write(text)
    if lineage:
        from marketing_ops.cli_governance import print_lineage

        if not print_lineage(h, decision_id, files=files):
            raise typer.Exit(1)
