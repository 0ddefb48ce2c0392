"""`marketing-ops warehouse ...`: what the warehouse says, for people.

- ``attribution``: what each channel brought over the last days, under the seven attribution
  methods side by side, next to the platforms' own claims.
- ``docs``: ``dbt docs generate`` against the data home's warehouse, written to
  ``<home>/reports/dbt_docs`` (open ``index.html``), plus where the quality reports are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from marketing_ops.cli._render import HomeOption, console, open_home
from marketing_ops.config import DBT_PROJECT_DIR, data_home

app = typer.Typer(
    name="warehouse", help="The warehouse: attribution by channel, dbt docs.", no_args_is_help=True
)

METHODS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)


def attribution_summary(mart: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    """Per channel: conversions credited by each method, the measured count by own channel,
    and the platforms' claims (from the KPI mart), sorted by Markov credit."""
    by_channel = mart.groupby("channel")[["conversions", *METHODS]].sum()
    claims = (
        kpis.groupby("channel")["platform_conversions"].sum()
        if not kpis.empty
        else pd.Series(dtype=float)
    )
    by_channel["platform_claims"] = claims.reindex(by_channel.index).fillna(0.0)
    return by_channel.sort_values("markov", ascending=False)


@app.command()
def attribution(
    days: int = typer.Option(28, min=1, help="How many days back from the last day with data."),
    home: Path | None = HomeOption,
) -> None:
    """Conversions per channel under first touch, last touch, linear, time decay,
    position-based, Markov and Shapley, beside the platforms' own claims."""
    from marketing_ops.warehouse import connect, read_table, table_exists

    h = data_home(home)
    with connect(h.warehouse, read_only=True) as con:
        if not table_exists(con, "marts.fct_attribution_daily"):
            console.print("No attribution yet: run `marketing-ops demo` or `marketing-ops run`.")
            raise typer.Exit(1)
        last = con.execute("select max(date_day) from marts.fct_attribution_daily").fetchone()[0]
        start: date = last - timedelta(days=days - 1)
        mart = read_table(
            con, "marts.fct_attribution_daily", date_column="date_day", start=start, end=last
        )
        kpis = read_table(
            con, "marts.fct_channel_kpis_daily", date_column="date_day", start=start, end=last
        )
    summary = attribution_summary(mart, kpis)
    lookback = int(mart["lookback_days"].max()) if len(mart) else 0
    t = Table(
        title=f"Conversions by channel, {start} to {last} (lookback {lookback} days)",
        caption=(
            "own: by the conversion's own source/medium; first/last touch, linear, time decay,"
            " U-shape (position-based), Markov removal effect, Shapley value; claims: what the"
            " ad platforms report (they over-count)"
        ),
    )
    headers = (
        "channel",
        "own",
        "first",
        "last",
        "linear",
        "decay",
        "U-shape",
        "markov",
        "shapley",
        "claims",
    )
    for header in headers:
        t.add_column(header, justify="right", no_wrap=True)
    for channel, r in summary.iterrows():
        t.add_row(
            str(channel),
            f"{r['conversions']:,.0f}",
            *(f"{r[m]:,.0f}" for m in METHODS),
            f"{r['platform_claims']:,.0f}",
        )
    console.print(t)


@app.command()
def docs(home: Path | None = HomeOption) -> None:
    """Generate the dbt docs (models, columns, tests, lineage) from the data home's warehouse."""
    h = open_home(home)
    target = h.reports / "dbt_docs"
    dbt = Path(sys.executable).parent / "dbt"
    env = {
        **os.environ,
        "MARKETING_OPS_WAREHOUSE": str(h.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    done = subprocess.run(
        [
            str(dbt) if dbt.exists() else "dbt",
            "docs",
            "generate",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        console.print(done.stdout[-3000:])
        raise typer.Exit(done.returncode)
    console.print(f"dbt docs: {target / 'index.html'}")
    reports = h.reports / "validation"
    if reports.exists():
        console.print(
            f"quality gate reports: {reports} ({len(list(reports.rglob('*.html')))} pages)"
        )
