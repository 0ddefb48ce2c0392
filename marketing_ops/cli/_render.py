"""What every command group shares: the console, the ``--home`` option, the output formats,
and printing a frame as a rich table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.status import Status
from rich.table import Table

from marketing_ops.config import DataHome, data_home
from marketing_ops.spreadsheets import spreadsheet_safe

# Writes to sys.stdout as it is at print time (redirection, CliRunner in tests).
console = Console()

HomeOption = typer.Option(
    None, "--home", help="Data home (default: $MARKETING_OPS_HOME or ./data_home)."
)


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def open_home(root: Path | None) -> DataHome:
    """The data home of ``--home``, its folders created."""
    return data_home(root).ensure()


def pii_key_or_exit() -> bytes:
    """The data home's PII key, or exit 2 with the reason (the demo's key under MARKETING_OPS_DEMO=1)."""
    import os

    from marketing_ops.signals.privacy import MissingPiiKeyError, pii_key

    try:
        return pii_key(demo=os.environ.get("MARKETING_OPS_DEMO", "") == "1")
    except MissingPiiKeyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{name}: expected a date like 2026-01-31, got {value!r}"
        ) from None


def fail(exc: Exception, code: int = 2) -> None:
    """One red line for a refused request, no traceback."""
    console.print(f"[red]{exc}[/red]")
    raise typer.Exit(code) from None


def spinner(text: str) -> Status:
    """A spinner bound to the terminal's stdout now: runs redirect tool output (dbt's log)
    to a file meanwhile, and the spinner must not follow it there."""
    return Console(file=sys.stdout).status(text)


def missing(value: object) -> bool:
    """None, NaN and pandas' NA/NaT: nothing to show."""
    try:
        return value is None or bool(value != value)
    except TypeError:  # pd.NA refuses a truth value
        return True
    except ValueError:  # an array: something to show
        return False


def text(value: object) -> str:
    """A value as plain text; nothing (never ``nan``) when it is missing."""
    return "" if missing(value) else str(value)


def money(value: object) -> str:
    """An amount for people: whole units with thousands separators, cents below 10."""
    if missing(value):
        return ""
    amount = float(value)
    return f"{amount:,.2f}" if 0 < abs(amount) < 10 else f"{amount:,.0f}"


def number(value: float) -> str:
    """A float for people: whole with separators from 100, two decimals from 1, else three
    significant digits (a click rate of 0.0123); never scientific notation."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1 or size == 0:
        return f"{value:.2f}"
    return f"{value:.3g}" if size >= 1e-4 else f"{value:.6f}"


def cell(value: object) -> str:
    """A value as a table cell: empty for None/NaN, floats rounded for people."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if missing(value):
        return ""
    if isinstance(value, float):
        return number(value)
    return str(value)


def show_frame(frame, fmt: Output, title: str = "", limit: int | None = None) -> None:
    """A frame as a table (first ``limit`` rows), JSON records or CSV on stdout."""
    if fmt is Output.json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso", default_handler=str))
        sys.stdout.write("\n")
        return
    if fmt is Output.csv:
        sys.stdout.write(spreadsheet_safe(frame).to_csv(index=False))
        return
    shown = frame if limit is None else frame.head(limit)
    table = Table(title=title or None, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column))
    for row in shown.itertuples(index=False):
        table.add_row(*[cell(v) for v in row])
    console.print(table)
    if limit is not None and len(frame) > limit:
        console.print(f"({len(frame) - limit} more rows: --limit or --format csv)")
