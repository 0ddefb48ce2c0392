"""Decision commands: `decisions` (show or export a batch), `explain`, `approve`, `reject`,
and `replay` (re-run a recorded batch bit for bit)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from marketing_ops.cli._render import HomeOption, Output, console, open_home

app = typer.Typer()


class ExplainFormat(StrEnum):
    markdown = "markdown"
    json = "json"


@app.command()
def decisions(
    batch: str = typer.Option("latest", "--batch", help="Batch id, or 'latest'."),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or csv."),
    home: Path | None = HomeOption,
) -> None:
    """Show or export a decision batch (the decision contract of DESIGN.md)."""
    from marketing_ops.decisioning import export_batch
    from marketing_ops.warehouse import connect, read_table

    h = open_home(home)
    with connect(h.warehouse, read_only=True) as con:
        frame = read_table(con, "agent.decisions")
    if frame.empty:
        console.print("No decisions yet: run `marketing-ops demo` or `marketing-ops run`.")
        raise typer.Exit(1)
    batch_id = frame.sort_values("created_at")["batch_id"].iloc[-1] if batch == "latest" else batch
    frame = frame[frame["batch_id"] == batch_id]
    if frame.empty:
        raise typer.BadParameter(f"--batch: no batch {batch!r}")
    from marketing_ops.decisioning import apply_approvals, read_approvals

    frame = apply_approvals(frame, read_approvals(h))  # statuses as the ledger stands now
    if fmt is Output.table:
        print_decisions(frame, limit=None)
    else:
        sys.stdout.write(export_batch(frame, fmt.value))


def _decision_action_type(h, decision_id: str) -> str:
    from marketing_ops.warehouse import connect

    with connect(h.warehouse, read_only=True) as con:
        row = con.execute(
            "select action_type from agent.decisions where decision_id = ?", [decision_id]
        ).fetchone()
    if row is None:
        raise typer.BadParameter(f"DECISION_ID: no decision {decision_id!r}")
    return str(row[0])


def _verdict(
    decision_id: str, approver: str, home: Path | None, reason: str, approve: bool
) -> None:
    from marketing_ops.decisioning import ApprovalError, load_policies
    from marketing_ops.decisioning import approve as approve_fn
    from marketing_ops.decisioning import reject as reject_fn

    h = open_home(home)
    roles = load_policies(h.policies).roles
    action_type = _decision_action_type(h, decision_id)
    try:
        entry = (approve_fn if approve else reject_fn)(
            h, decision_id, approver, roles, action_type=action_type, reason=reason
        )
    except ApprovalError as exc:
        console.print(f"[red]refused: {exc}[/red]")
        raise typer.Exit(2) from None
    console.print(
        f"{entry['verdict']} {decision_id} as {approver} (ledger hash {entry['hash'][:12]})"
    )
    console.print("It takes effect at the next execution run (`marketing-ops run` or the UI).")


@app.command()
def approve(
    decision_id: str = typer.Argument(..., help="Decision id (D-...)."),
    approver: str = typer.Option(
        ..., "--as", help="Approver name, as listed in policies/roles.yaml."
    ),
    reason: str = typer.Option("", help="Why, for the ledger."),
    home: Path | None = HomeOption,
) -> None:
    """Approve a pending decision (appended to the hash-chained approval ledger)."""
    _verdict(decision_id, approver, home, reason, approve=True)


@app.command()
def reject(
    decision_id: str = typer.Argument(..., help="Decision id (D-...)."),
    approver: str = typer.Option(
        ..., "--as", help="Approver name, as listed in policies/roles.yaml."
    ),
    reason: str = typer.Option("", help="Why, for the ledger."),
    home: Path | None = HomeOption,
) -> None:
    """Reject a decision; a rejection is final and the action never executes."""
    _verdict(decision_id, approver, home, reason, approve=False)


def print_decisions(frame, limit: int | None) -> None:
    frame = frame.copy()
    frame["_rank"] = frame["expected_revenue"].fillna(0).abs()
    frame = frame.sort_values(["action_type", "_rank"], ascending=[True, False])
    if limit:
        frame = frame.groupby("action_type").head(max(1, limit // 2))
    t = Table(title=f"Decision batch {frame['batch_id'].iloc[0]}", show_lines=True)
    for col in (
        "action",
        "channel",
        "audience",
        "asset",
        "amount EUR",
        "expected revenue",
        "status",
        "why",
    ):
        t.add_column(col)
    for _, r in frame.iterrows():
        why = ""
        try:
            why = json.loads(r["rationale"]).get("summary", "")
        except (TypeError, ValueError):
            pass
        amount = (
            f"{r['amount']:,.0f}" if r["amount"] == r["amount"] and r["amount"] is not None else ""
        )
        exp = r["expected_revenue"]
        t.add_row(
            str(r["action_type"]),
            str(r["channel"] or ""),
            str(r["audience_id"] or ""),
            str(r["asset_id"] or ""),
            amount,
            f"{exp:,.0f}" if exp == exp and exp is not None else "",
            str(r["status"]),
            why,
        )
    console.print(t)


@app.command()
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
    home: Path | None = HomeOption,
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

    h = open_home(home)
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
        from marketing_ops.cli.governance import print_lineage

        if not print_lineage(h, decision_id, files=files):
            raise typer.Exit(1)


@app.command()
def replay(
    batch_id: str = typer.Argument(..., help="Batch id (B-...), as in `decisions` or the UI."),
    diff: bool = typer.Option(
        False, "--diff", help="Also show what today's policy files would have done differently."
    ),
    home: Path | None = HomeOption,
) -> None:
    """Re-run a past batch from its recorded inputs (frames, policy files, autonomy, data
    versions) and check it reproduces the recorded batch bit for bit."""
    from marketing_ops.decisioning.batch.replay import compare_batches, policy_diff, replay_batch
    from marketing_ops.decisioning.batch.replay import recorded_batch_frame as recorded

    h = open_home(home)
    try:
        result = replay_batch(h, batch_id)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(1) from None
    entry = result.entry
    if result.identical:
        console.print(
            f"[green]Reproduced bit for bit[/green]: batch {batch_id} ({entry['actions']} "
            f"actions) from ledger entry #{entry['seq']}, sha256 {result.digest}"
        )
    else:
        console.print(
            f"[red]Not reproduced[/red]: recorded sha256 {entry['batch_sha256']}, "
            f"replayed {result.digest}"
        )
        _print_changes(compare_batches(recorded(h, entry), result.batch), "What differs")
    if diff:
        pd_ = policy_diff(h, batch_id, h.policies)
        console.rule("[bold]Under today's policy[/bold]")
        console.print(
            f"Policy version then {pd_.recorded_version}, today {pd_.today_version}"
            + ("" if pd_.file_changes else " (the policy files are unchanged)")
        )
        for name, lines in pd_.file_changes.items():
            console.print(f"[bold]{name}[/bold]")
            for line in lines:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                console.print(
                    f"[{style}]{escape(line)}[/{style}]" if style else line, markup=bool(style)
                )
        if pd_.same:
            console.print("Today's policy would have decided exactly the same actions.")
        else:
            _print_changes(pd_.changes, "What today's policy would do differently")
    if not result.identical:
        raise typer.Exit(1)


def _print_changes(changes, title: str) -> None:
    table = Table(title=title, show_lines=True)
    for col in ("action", "what changes", "then", "today", "Δ exp. revenue"):
        table.add_column(col)
    for r in changes.itertuples():
        what = " / ".join(
            v for v in (r.channel, r.campaign_id, r.audience_id) if v not in ("", None)
        )
        table.add_row(
            f"{r.action_type}: {what}",
            r.change,
            r.recorded,
            r.today,
            f"{r.revenue_difference:+,.0f}",
        )
    console.print(table)
