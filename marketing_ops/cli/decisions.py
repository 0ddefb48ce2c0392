"""Decision commands: `decisions` (show or export a batch), `explain`, `approve`, `reject`,
and `replay` (re-run a recorded batch bit for bit)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich import box
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from marketing_ops.cli._render import (
    HomeOption,
    Output,
    console,
    missing,
    money,
    open_home,
    show_frame,
    text,
)

app = typer.Typer()


class ExplainFormat(StrEnum):
    markdown = "markdown"
    json = "json"


@app.command()
def decisions(
    batch: str = typer.Option("latest", "--batch", help="Batch id (B-...), or 'latest'."),
    list_: bool = typer.Option(
        False, "--list", help="List every kept batch (earlier ones too) instead of showing one."
    ),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or csv."),
    wide: bool = typer.Option(
        False, "--wide", help="Table with every column and the full reason (wide terminals)."
    ),
    home: Path | None = HomeOption,
) -> None:
    """Show or export a decision batch (the decision contract of DESIGN.md). Every batch is
    kept: deciding a day again makes a new one, and `--list` shows them all. The table fits
    the terminal: a short reason per decision (`explain DECISION_ID` for the whole of it,
    --wide for every column)."""
    from marketing_ops.decisioning import (
        apply_approvals,
        export_batch,
        list_batches,
        load_batch,
        read_approvals,
    )
    from marketing_ops.warehouse import connect

    h = open_home(home)
    with connect(h.warehouse, read_only=True) as con:
        batches = list_batches(con)
        if batches.empty:
            console.print("No decisions yet: run `marketing-ops demo` or `marketing-ops run`.")
            raise typer.Exit(1)
        if list_:
            show_frame(batches, fmt, title="Decision batches (oldest first)")
            return
        batch_id = str(batches["batch_id"].iloc[-1]) if batch == "latest" else batch
        try:
            frame = load_batch(con, batch_id)
        except KeyError as exc:
            raise typer.BadParameter(f"--batch: {exc.args[0]}") from None
    frame = apply_approvals(frame, read_approvals(h))  # statuses as the ledger stands now
    if fmt is Output.table:
        print_decisions(frame, limit=None, wide=wide)
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


SHORT_ACTION = {
    "budget_allocation": "budget",
    "content_selection": "content",
    "send_time": "send time",
}


def print_decisions(frame, limit: int | None, wide: bool = False) -> None:
    """A batch as a table that fits the terminal: per decision its id, what it does with a
    short reason beneath, the amount, expected revenue and status; cells never wrap (long
    text ends in an ellipsis). ``wide``: every column, the full rationale summary."""
    frame = frame.copy()
    frame["_rank"] = frame["expected_revenue"].fillna(0).abs()
    frame = frame.sort_values(["action_type", "_rank"], ascending=[True, False])
    if limit:
        frame = frame.groupby("action_type").head(max(1, limit // 2))
    title = f"Decision batch {frame['batch_id'].iloc[0]}"
    table = _wide_table(frame, title) if wide else _compact_table(frame, title)
    console.print(table)


def _compact_table(frame, title: str) -> Table:
    """Two lines per decision: id and status under it, action and its short reason under it,
    then the amount and expected revenue; the action column takes what width is left."""
    rows = [
        (
            str(r["decision_id"]),
            text(r["status"]),
            _what(r),
            short_reason(r, _rationale(r)),
            money(r["amount"]),
            money(r["expected_revenue"]),
        )
        for r in frame.to_dict("records")
    ]
    head = ("decision", "status", "action", "why", "EUR", "exp. rev.")
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(head)]
    ident = max(widths[0], widths[1])
    room = max(16, console.width - ident - widths[4] - widths[5] - 3 * 3 - 2)
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("decision / status", no_wrap=True, min_width=ident)
    table.add_column("action / why", no_wrap=True, overflow="ellipsis", max_width=room)
    table.add_column("EUR", justify="right", no_wrap=True, min_width=widths[4])
    table.add_column("exp. rev.", justify="right", no_wrap=True, min_width=widths[5])
    for decision, status, what, why, amount, revenue in rows:
        table.add_row(
            f"{decision}\n{escape(status)}",
            f"{escape(what)}\n[dim]{escape(why)}[/dim]",
            amount,
            revenue,
        )
    return table


def _budget_change(row: dict, rationale: dict) -> str:
    """``+30% vs 2,800 EUR last period, held by: max shift +30% vs last period``."""
    last = (rationale.get("scores") or {}).get("last_period_amount")
    if missing(last) or missing(row.get("amount")) or not last:
        return ""
    change = f"{float(row['amount']) / float(last) - 1:+.0%} vs {money(last)} EUR last period"
    prefix = f"{text(row.get('channel'))}: "
    held = [c.removeprefix(prefix) for c in rationale.get("binding_constraints") or []
            if str(c).startswith(prefix)]  # fmt: skip
    return f"{change}, held by {held[0]}" if held else change


def _wide_table(frame, title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for col in ("decision", "action", "channel", "campaign", "audience", "asset", "when",
                "amount EUR", "expected revenue (interval)", "status", "why"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for r in frame.to_dict("records"):
        interval = ""
        if not missing(r["expected_lower"]) and not missing(r["expected_upper"]):
            interval = f" ({money(r['expected_lower'])}-{money(r['expected_upper'])})"
        table.add_row(
            str(r["decision_id"]),
            text(r["action_type"]),
            *(_id(r.get(c)) for c in ("channel", "campaign_id", "audience_id", "asset_id")),
            text(r.get("scheduled_for")),
            money(r["amount"]),
            money(r["expected_revenue"]) + interval,
            text(r["status"]),
            escape(_rationale(r).get("summary", "")),
        )
    return table


def _rationale(row: dict) -> dict:
    try:
        parsed = json.loads(row["rationale"])
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _what(row: dict) -> str:
    """``budget paid_search``, ``content loyal_customers <- A001``: the action and its target."""
    kind = SHORT_ACTION.get(str(row["action_type"]), text(row["action_type"]))
    channel, campaign, audience, asset = (
        _id(row.get(c)) for c in ("channel", "campaign_id", "audience_id", "asset_id")
    )
    where = " / ".join(t for t in (channel, campaign) if t)
    target = f"{audience} <- {asset}" if audience and asset else audience or asset
    return " ".join(t for t in (kind, where, target) if t)


def _id(value: object) -> str:
    """An id cell; the text ``None`` some writers store for a missing id shows as nothing."""
    shown = text(value)
    return "" if shown == "None" else shown


def short_reason(row: dict, rationale: dict) -> str:
    """Why, in one short line: what it waits for when it waits, the autonomy level when a
    person decides, else the expected outcome from the rationale's summary."""
    autonomy = rationale.get("autonomy") or {}
    waits = autonomy.get("waits_for_approval_because") or []
    if waits:
        return "waits: " + "; ".join(str(w) for w in waits)
    status = text(row.get("status"))
    if status not in ("approved", "executed") and autonomy.get("level"):
        return f"{status}: autonomy {autonomy['level']}"
    change = _budget_change(row, rationale)
    if change:
        return change
    summary = str(rationale.get("summary") or "")
    head, _, tail = summary.partition(": ")
    return (tail or head).split(";")[0].split(". ")[0].strip().rstrip(".")


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
        read_entries,
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
    text = rationale_markdown(row.iloc[0].to_dict(), ledger, heading="#", models=read_entries(h))
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
