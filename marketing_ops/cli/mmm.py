"""`marketing-ops mmm ...`: the media mix model on a user's own CSV.

    marketing-ops mmm fit data.csv --kpi revenue --spend tv_S,search_S --freq W --budget 500000

Prints contributions, ROAS and marginal ROAS with 80 % intervals, diagnostics, the accepted and
rejected experiments and (with ``--budget``) a plan; writes an HTML page with its charts.
``--breaks tv_S=2018-08-20`` names a known change in a channel's response (the warehouse path finds
them from the per-channel conversions; a CSV of total KPI and spend cannot).
A CSV the model cannot read is refused in one line (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import typer

from marketing_ops.cli._render import console, fail

app = typer.Typer(
    name="mmm",
    help="Media mix model of the total KPI on your own CSV (contributions, ROAS, budget plan).",
    no_args_is_help=True,
)


@app.command()
def fit(
    data: Path = typer.Argument(..., help="CSV: a date column, the KPI, spend per channel."),
    kpi: str = typer.Option(..., help="KPI column (or a*b, e.g. conversions*value)."),
    spend: str = typer.Option(..., help="Spend columns, comma-separated."),
    freq: str = typer.Option("W", help="D (daily) or W (weekly) rows."),
    controls: str = typer.Option("", help="Control columns, comma-separated."),
    geo: str = typer.Option("", help="Geo column: fits the hierarchical geo model."),
    experiments: str = typer.Option("", help="Lift-test CSV (docs/contracts.md)."),
    budget: float | None = typer.Option(None, help="Total budget to plan for the next periods."),
    breaks: str = typer.Option(
        "",
        help="Known changes in a channel's response, e.g. tv_S=2018-08-20,search_S=2019-01-07: "
        "the channel's effect is fitted afresh from that day (one break per channel).",
    ),
    out: Path = typer.Option(Path("mmm_report"), help="Directory of the HTML page."),
    draws: int = typer.Option(500, min=10, help="Posterior draws per chain."),
    warmup: int = typer.Option(500, min=10, help="Warm-up steps per chain."),
    chains: int = typer.Option(2, min=1, help="Chains (run one after the other)."),
    seed: int = typer.Option(0, help="Sampler seed."),
) -> None:
    """Fit the model, print its tables and write its page; exit 1 if it did not converge."""
    from marketing_ops.forecasting.mmm import mmm_fit_command

    try:
        result = mmm_fit_command(
            str(data),
            kpi,
            spend,
            freq,
            controls,
            geo,
            experiments,
            budget,
            str(out),
            breaks=breaks,
            draws=draws,
            warmup=warmup,
            chains=chains,
            seed=seed,
            console=console,
        )
    except (FileNotFoundError, ValueError) as exc:
        fail(exc)
    if not result.converged:
        raise typer.Exit(1)
