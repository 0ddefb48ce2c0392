"""`marketing-ops forecasts ...`: the forward plan and the forecast settings, for people.

    marketing-ops forecasts plan --budget paid_social=9000 --budget display=4000
    marketing-ops forecasts settings

``plan`` reads the latest stored forecasts and response curves (or those of ``--as-of``) and
prints next period's conversions and revenue per channel and in total, with intervals, for
the given budget; channels not named keep last period's spend.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table

from marketing_ops.cli._render import HomeOption, console
from marketing_ops.config import data_home

app = typer.Typer(
    name="forecasts",
    help="Forecasts: the forward plan for a budget split, and the settings in use.",
    no_args_is_help=True,
)


def parse_budget(items: list[str]) -> dict[str, float]:
    """``["display=4000", "email=20"]`` -> {channel: EUR for the period}; errors say which item."""
    out: dict[str, float] = {}
    for item in items:
        channel, sep, amount = item.partition("=")
        try:
            if not sep or not channel.strip():
                raise ValueError
            out[channel.strip()] = float(amount)
        except ValueError:
            raise typer.BadParameter(
                f"--budget {item!r}: expected CHANNEL=EUR, e.g. paid_social=9000"
            ) from None
    return out


@app.command()
def plan(
    budget: list[str] = typer.Option(
        [], "--budget", "-b", help="CHANNEL=EUR for the period (repeatable)."
    ),
    as_of: str | None = typer.Option(None, help="Plan after this as-of day (default: latest)."),
    days: int = typer.Option(7, min=1, help="Days in the period (at most the forecast horizon)."),
    output: str = typer.Option("table", "--format", help="table or json."),
    home: Path | None = HomeOption,
) -> None:
    """Next period's KPIs for a budget split (the forward plan the decision layer uses)."""
    from marketing_ops.forecasting import ForwardPlanner
    from marketing_ops.warehouse import connect, read_table

    h = data_home(home)
    if not h.warehouse.exists():
        raise typer.BadParameter(f"no warehouse in {h.root}: run `marketing-ops demo` first")
    with connect(h.warehouse, read_only=True) as con:
        curves = read_table(con, "agent.response_curves")
        if curves.empty:
            raise typer.BadParameter("no response curves stored yet: run the decide_and_act job")
        day = date.fromisoformat(as_of) if as_of else max(curves["as_of"]).date()
        curves = curves[curves["as_of"].dt.date == day]
        forecasts = read_table(con, "agent.forecasts", date_column="as_of", start=day, end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
    if curves.empty:
        raise typer.BadParameter(f"--as-of {day}: no response curves stored for that day")
    planner = ForwardPlanner.from_tables(kpis, forecasts, curves, day, days=days)
    recent = kpis[kpis["date_day"].dt.date > day - timedelta(days=days)]
    last = recent.groupby("channel")["spend"].sum().to_dict()
    split = {c: float(last.get(c, 0.0)) for c in planner.responses}
    split.update(parse_budget(budget))
    try:
        result = planner.plan(split)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if output == "json":
        rows = result.channels.where(result.channels.notna(), None).to_dict("records")
        print(
            json.dumps(
                {"start": str(result.start), "days": days, "channels": rows, "total": result.total},
                default=str,
                indent=1,
            )
        )
        return
    table = Table(
        title=f"Forward plan: {result.start} + {days} days (as of {day}, {result.level:.0%} intervals)"
    )
    for col in ("channel", "source", "spend EUR", "conversions", "revenue EUR", "marginal ROI"):
        table.add_column(col, justify="right")
    for r in result.channels.sort_values(
        ["source", "channel"], ascending=[False, True]
    ).itertuples():
        roi = (
            "-"
            if r.marginal_roi is None or r.marginal_roi != r.marginal_roi
            else f"{r.marginal_roi:.2f}"
        )
        table.add_row(
            r.channel,
            r.source,
            f"{r.spend:,.0f}",
            f"{r.conversions:,.0f} ({r.conversions_lower:,.0f}-{r.conversions_upper:,.0f})",
            f"{r.revenue:,.0f} ({r.revenue_lower:,.0f}-{r.revenue_upper:,.0f})",
            roi,
        )
    t = result.total
    table.add_row(
        "total",
        "",
        f"{t['spend']:,.0f}",
        f"{t['conversions']:,.0f} ({t['conversions_lower']:,.0f}-{t['conversions_upper']:,.0f})",
        f"{t['revenue']:,.0f} ({t['revenue_lower']:,.0f}-{t['revenue_upper']:,.0f})",
        "",
    )
    console.print(table)


@app.command()
def settings(home: Path | None = HomeOption) -> None:
    """The forecast settings in use (checked), and the file they come from."""
    from marketing_ops.forecasting import ForecastSettingsError, load_forecast_settings

    path = data_home(home).settings / "forecasting.yaml"
    try:
        s = load_forecast_settings(path)
    except ForecastSettingsError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    source = str(path) if path.exists() else "packaged defaults (copy forecasting.yaml there)"
    console.print(f"settings: {source}  version {s.version}")
    console.print_json(data=s.model_dump(mode="json"))
