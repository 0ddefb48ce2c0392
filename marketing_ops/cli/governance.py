"""Governance commands: `audit verify`, `report`, `forget`, and the lineage part of
`explain --lineage` (:mod:`marketing_ops.cli.decisions` owns `explain` and `replay`).

They read the data home directly (ledger, warehouse, archive); none of them needs the
Dagster instance.
"""

from __future__ import annotations

import webbrowser
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from marketing_ops.cli._render import HomeOption, console, open_home, pii_key_or_exit

app = typer.Typer()
audit_app = typer.Typer(
    name="audit",
    help="Check the audit trail: ledgers, payloads, warehouse batches, archived files.",
    no_args_is_help=True,
)
app.add_typer(audit_app)


@audit_app.command("verify")
def audit_verify(
    files: bool = typer.Option(
        False, "--files", help="Also re-hash every archived source file (reads every byte)."
    ),
    home: Path | None = HomeOption,
) -> None:
    """Verify the decision and approval ledgers' hash chains, every ledger payload, that the
    warehouse's batches are the ones the ledger recorded, and (with --files) the archive.
    Exits 1 when anything was tampered with."""
    from marketing_ops.governance import audit

    report = audit(open_home(home), files=files)
    table = Table(title="Audit")
    for col in ("check", "result", "detail"):
        table.add_column(col)
    for c in report.checks:
        table.add_row(c.name, "[green]ok[/green]" if c.ok else "[red]TAMPERED[/red]", c.detail)
    console.print(table)
    for c in report.checks:
        for problem in c.problems:
            console.print(f"[red]{c.name}: {escape(problem)}[/red]")
    if not report.ok:
        raise typer.Exit(1)


def _lineage_tree(entry: dict) -> Tree:
    nodes: dict[str, dict] = {}
    for n in entry.get("lineage", []):
        nodes.setdefault(n["asset"], n)  # the first event reached per asset
    root = Tree(f"[bold]decisions/decision_batch[/bold]  batch {entry['batch_id']}")
    shown: set[str] = set()

    def label(name: str) -> str:
        n = nodes.get(name, {})
        version = str(n.get("data_version", "?"))[:12]
        run = str(n.get("run_id") or "")[:8]
        part = f"  partition {n['partition']}" if n.get("partition") else ""
        return f"{name}  [dim]data version {version}  run {run}{part}[/dim]"

    def add(branch: Tree, name: str) -> None:
        if name in shown:
            branch.add(f"{name}  [dim](see above)[/dim]")
            return
        shown.add(name)
        child = branch.add(label(name))
        for parent in sorted((nodes.get(name) or {}).get("inputs", {})):
            add(child, parent)

    for signal in entry.get("inputs", []):
        add(root, signal["name"])
    return root


def print_lineage(home, decision_id: str, files: bool = False, verify: bool = True) -> bool:
    """The lineage section of `explain`: ledger entry, versions, upstream assets with data
    versions, and the archived source files with their content hashes re-checked. Returns
    whether everything checked out."""
    from marketing_ops.governance import decision_lineage

    lineage = decision_lineage(home, decision_id, verify=verify)
    entry = lineage.entry
    console.rule("[bold]Lineage[/bold]")
    if entry is None:
        console.print(f"[red]No ledger entry records decision {decision_id}.[/red]")
        return False
    chain = (
        "[green]hash chain verified[/green]"
        if lineage.chain_problem is None
        else f"[red]hash chain BROKEN: {lineage.chain_problem}[/red]"
    )
    console.print(
        f"Ledger entry #{entry['seq']} ({entry['hash'][:16]}…), {chain}; batch "
        f"{entry['batch_id']} as of {entry['as_of']}, recorded {entry['at']}; replayed "
        f"bit for bit when recorded: {'yes' if entry.get('replay_verified') else 'NO'}"
    )
    code = entry.get("code_version", {})
    console.print(
        f"Code: package {code.get('package')}, commit {code.get('git_commit') or 'n/a'}"
        f"{' (modified tree)' if code.get('git_dirty') else ''}, source sha256 "
        f"{str(code.get('source_sha256', ''))[:16]}…  ·  policy version {entry['policy_version']}"
    )
    models = entry.get("model_versions", {})
    libs = ", ".join(f"{k} {v}" for k, v in (models.get("libraries") or {}).items())
    console.print(
        f"Models: {', '.join(models.get('forecast_models') or []) or 'n/a'}; response curves "
        f"data version {models.get('forecasts/response_curves') or 'n/a'}; {libs}"
    )
    console.print(_lineage_tree(entry))
    recorded = entry.get("source_files") or {}
    match = lineage.manifest_matches
    manifest_text = (
        "[green]file log reproduces the recorded manifest[/green]"
        if match
        else "[red]file log no longer matches the recorded manifest[/red]"
        if match is False
        else "no manifest recorded"
    )
    console.print(
        f"Source files: {recorded.get('count', 0)} current when decided "
        f"(manifest {str(recorded.get('sha256', ''))[:16]}…): {manifest_text}"
    )
    per_source = Table()
    for col in ("source", "files", "first day", "last day", "content hash check"):
        per_source.add_column(col)
    frame = lineage.files
    for source, info in sorted((recorded.get("sources") or {}).items()):
        rows = frame[frame["source"] == source] if len(frame) else frame
        counts = rows["status"].value_counts().to_dict() if len(rows) else {}
        verdict = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "-"
        if counts.get("altered") or counts.get("missing"):
            verdict = f"[red]{verdict}[/red]"
        per_source.add_row(
            source, str(info["files"]), str(info["first_day"]), str(info["last_day"]), verdict
        )
    console.print(per_source)
    if files and len(frame):
        listing = Table(title="Archived files")
        for col in ("source", "day", "file", "sha256", "status"):
            listing.add_column(col)
        for r in frame.itertuples():
            day = "" if r.partition_date is None else str(r.partition_date)[:10]
            listing.add_row(r.source, day, r.file_name, r.file_hash, r.status)
        console.print(listing)
    if lineage.erasures:
        console.print(
            f"{len(lineage.erasures)} erasure(s) recorded since; files they redacted show as "
            "'redacted' with their new hash."
        )
    ok = lineage.intact
    console.print(
        "[green]Lineage intact.[/green]" if ok else "[red]Lineage does NOT check out.[/red]"
    )
    return ok


@app.command()
def report(
    open_: bool = typer.Option(False, "--open", help="Open the report in a web browser."),
    build: bool = typer.Option(
        False, "--build", help="Build it now from the warehouse (the asset does this each run)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Day to build for (YYYY-MM-DD)."),
    home: Path | None = HomeOption,
) -> None:
    """The performance report (HTML, charts as images) in the data home: print its path, and
    open it with --open."""
    from marketing_ops.reporting import build_report, latest_report

    h = open_home(home)
    if build or as_of:
        day = date.fromisoformat(as_of) if as_of else _latest_decision_day(h)
        if day is None:
            console.print("No data to report on yet: run `marketing-ops demo` first.")
            raise typer.Exit(1)
        path = build_report(h, day).path
    else:
        path = latest_report(h)
    if path is None:
        console.print(
            "No report yet: it is built by the reports/performance_report asset "
            "(`marketing-ops run`, the UI) or by `marketing-ops report --build`."
        )
        raise typer.Exit(1)
    console.print(f"Report: {path}")
    if open_:
        webbrowser.open(path.resolve().as_uri())


def _latest_decision_day(h) -> date | None:
    from marketing_ops.warehouse import connect, table_exists

    if not h.warehouse.exists():
        return None
    with connect(h.warehouse, read_only=True) as con:
        for table, column in (
            ("agent.decisions", "as_of"),
            ("marts.fct_channel_kpis_daily", "date_day"),
        ):
            if table_exists(con, table):
                value = con.execute(f"select max({column}) from {table}").fetchone()[
                    0
                ]  # fixed names
                if value is not None:
                    return value if isinstance(value, date) else value.date()
    return None


@app.command()
def forget(
    email: str = typer.Option(..., "--email", help="The person's email address."),
    requested_by: str = typer.Option(
        ..., "--as", help="Who asks for the erasure (recorded in the ledger)."
    ),
    reason: str = typer.Option("", help="Why (e.g. the request's reference), for the ledger."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    home: Path | None = HomeOption,
) -> None:
    """Erase a person's records from the warehouse, the graph, the archived files and the
    ledger payloads, and record the erasure in the decision ledger. Cannot be undone."""

    from marketing_ops.governance import forget as forget_person

    h = open_home(home)
    key = pii_key_or_exit()
    if not yes and not typer.confirm(
        "Erase this person's records everywhere in this data home? This cannot be undone."
    ):
        raise typer.Exit(1)
    try:
        result = forget_person(h, email, key, requested_by, reason)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table(title="Erased")
    table.add_column("where")
    table.add_column("records", justify="right")
    for where, n in sorted(result.warehouse.items()):
        table.add_row(f"warehouse {where}", str(n))
    for where, n in sorted(result.graph.items()):
        table.add_row(f"graph {where}", str(n))
    for f in result.files:
        table.add_row(f"{f['area']}/{f['source']}/{f['file']} (lines)", str(f["lines_removed"]))
    if result.payloads:
        table.add_row("ledger payloads rewritten", str(len(result.payloads)))
    console.print(table)
    if result.records == 0:
        console.print("No record of this person was found (the erasure is recorded anyway).")
    console.print(
        f"Recorded as ledger entry #{result.entry['seq']} (subject {result.subject[:16]}…, "
        f"hash {result.entry['hash'][:16]}…)."
    )
