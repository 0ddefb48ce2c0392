"""`marketing-ops signals ...`: what waits in the inbox, what loaded, what was rejected."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from marketing_ops.cli._render import HomeOption, console, open_home, pii_key_or_exit
from marketing_ops.config import data_home, partition_days

app = typer.Typer(
    name="signals",
    help="Signal files: the inbox and the runs it needs, loaded files, rejected rows.",
    no_args_is_help=True,
)

SOURCE = typer.Option(None, "--source", help="Only this source (ga4, google_ads, ...).")


def _warehouse(home):
    from marketing_ops.warehouse import connect, table_exists

    if not home.warehouse.exists():
        console.print("No warehouse yet: nothing has been loaded.")
        raise typer.Exit(1)
    con = connect(home.warehouse, read_only=True)
    return con, table_exists


@app.command()
def inbox(home: Path | None = HomeOption) -> None:
    """Files waiting in the inbox, the days inside them, and the runs the sensor would ask for."""
    from marketing_ops.signals import plan_loads, scan_inbox

    h = open_home(home)
    with console.status("Reading the inbox..."):
        files, _ = scan_inbox(h)
    if not files:
        console.print(f"The inbox ({h.inbox}) is empty.")
        return
    table = Table(title=f"Waiting in {h.inbox}")
    for col in ("source", "file", "days", "readable"):
        table.add_column(col)
    for f in sorted(files, key=lambda f: (f.source, f.name)):
        days = f"{f.days[0]}..{f.days[-1]}" if f.days else (str(f.day) if f.day else "-")
        table.add_row(f.source, f.name, days, "yes" if f.readable else "no (will be quarantined)")
    console.print(table)
    plan = plan_loads(files, *partition_days())
    runs = Table(title="Runs of ingest_and_model the inbox sensor requests")
    for col in ("days", "sources", "files", "run key"):
        runs.add_column(col)
    for r in plan.requests:
        runs.add_row(f"{r.start}..{r.end}", ", ".join(r.sources), str(len(r.files)), r.run_key)
    console.print(runs)
    for key, why in plan.waiting:
        console.print(f"[yellow]{key} waits: {why}[/yellow]")


@app.command()
def files(
    source: str | None = SOURCE,
    status: str | None = typer.Option(None, help="loaded, superseded, duplicate or quarantined."),
    limit: int = typer.Option(30, help="Most recent first."),
    home: Path | None = HomeOption,
) -> None:
    """Files received: status, day, and received = loaded + rejected (raw.file_log)."""
    con, table_exists = _warehouse(data_home(home))
    with con as c:
        if not table_exists(c, "raw.file_log"):
            console.print("Nothing loaded yet.")
            raise typer.Exit(1)
        rows = c.execute(
            "select source, file_name, partition_date, status, received, loaded, rejected, "
            "loaded_at from raw.file_log where (? is null or source = ?) "
            "and (? is null or status = ?) order by loaded_at desc, file_name limit ?",
            [source, source, status, status, limit],
        ).fetchall()
    table = Table(title="Signal files (raw.file_log)")
    for col in ("source", "file", "day", "status", "received", "loaded", "rejected", "at"):
        table.add_column(
            col, justify="right" if col in ("received", "loaded", "rejected") else "left"
        )
    for r in rows:
        table.add_row(*[("" if v is None else str(v)) for v in r[:-1]], str(r[-1])[:19])
    console.print(table)


@app.command()
def rejects(
    source: str | None = SOURCE,
    file: str | None = typer.Option(None, "--file", help="Only this file name."),
    limit: int = typer.Option(30, help="How many rows."),
    home: Path | None = HomeOption,
) -> None:
    """Rejected rows: file, line, field and reason (values masked when they look like PII)."""
    con, table_exists = _warehouse(data_home(home))
    with con as c:
        if not table_exists(c, "raw.rejects"):
            console.print("Nothing loaded yet.")
            raise typer.Exit(1)
        rows = c.execute(
            "select source, file_name, line, field, reason, raw_value from raw.rejects "
            "where (? is null or source = ?) and (? is null or file_name = ?) "
            "order by rejected_at desc, file_name, line limit ?",
            [source, source, file, file, limit],
        ).fetchall()
    table = Table(title="Rejected rows (raw.rejects)")
    for col in ("source", "file", "line", "field", "reason", "value"):
        table.add_column(col)
    for r in rows:
        table.add_row(*[("" if v is None else str(v)) for v in r])
    console.print(table)


@app.command()
def reconcile(source: str | None = SOURCE, home: Path | None = HomeOption) -> None:
    """Rebuild from the archive the days whose file log does not reconcile (a home loaded
    before rows had an identity): lost rows come back, replaced rows are recorded."""

    from marketing_ops.signals import SOURCES, reconcile_from_archive
    from marketing_ops.warehouse import connect

    h = open_home(home)
    key = pii_key_or_exit()
    table = Table(title="Reconciled from the archive")
    for col in ("source", "days loaded again", "files restored", "archive missing", "left"):
        table.add_column(col)
    remaining = 0
    with connect(h.warehouse) as con:
        for name in [source] if source else SOURCES:
            done = reconcile_from_archive(h, con, name, key)
            days = f"{done.days[0]}..{done.days[-1]} ({len(done.days)})" if done.days else "-"
            left = [p for p in done.remaining if "marketing-ops signals reconcile" not in p]
            remaining += len(left)
            table.add_row(
                name,
                days,
                str(len(done.restored)),
                ", ".join(done.missing_archive) or "-",
                "; ".join(left) or "reconciles",
            )
    console.print(table)
    if remaining:
        raise typer.Exit(1)
