"""Setting up and running the data home: `init`, `doctor`, `demo`, `run`, `status`, `ui`,
`autonomy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table

from marketing_ops.cli._render import (
    HomeOption,
    console,
    missing,
    money,
    open_home,
    parse_day,
    spinner,
)
from marketing_ops.cli.decisions import print_decisions
from marketing_ops.config import PROJECT_ROOT, DataHome, data_home

app = typer.Typer()

PostgresOption = typer.Option(
    None,
    "--postgres-url",
    envvar="DAGSTER_PG_URL",
    help="Run on a PostgreSQL-backed Dagster instance (postgresql+psycopg2://...).",
)


def _print_runs(outcomes) -> bool:
    table = Table(title="Dagster runs")
    for col in ("job", "run id", "result", "seconds"):
        table.add_column(col)
    for o in outcomes:
        table.add_row(o.job, o.run_id[:8], "ok" if o.success else "FAILED", f"{o.seconds:.1f}")
    console.print(table)
    ok = all(o.success for o in outcomes)
    for o in outcomes:
        if o.failed_steps:
            console.print(f"[red]{o.job}: failed steps: {', '.join(o.failed_steps)}[/red]")
            for step, error in o.errors.items():
                console.print(f"  {step}: {error}", markup=False)
            if o.log_path:
                console.print(f"  full log: {o.log_path}", markup=False)
        if o.skipped_steps:
            console.print(
                f"[yellow]{o.job}: not executed (upstream gate): {', '.join(o.skipped_steps)}[/yellow]"
            )
    return ok


@app.command()
def init(
    root: Path | None = typer.Argument(
        None, help="Folder of the new data home (default: $MARKETING_OPS_HOME or ./data_home)."
    ),
    generate_key: bool = typer.Option(
        False,
        "--generate-key",
        help="Also print a new PII key for your secret store (never written into the home).",
    ),
) -> None:
    """Create a data home for your own data: an inbox folder per source, the default
    policies and reference/reporting.yaml. Files already there are kept."""
    from marketing_ops.doctor import init_home
    from marketing_ops.signals.privacy import PII_KEY_ENV

    h = data_home(root)
    written = init_home(h)
    console.print(f"Data home {h.root}")
    for path in written:
        console.print(f"  wrote {path.relative_to(h.root)}")
    console.print(
        f"Drop your exports into {h.inbox}/<source>/ (one folder per source); edit the "
        f"policies in {h.policies}/ and the currency in {h.reference}/reporting.yaml."
    )
    console.print(
        f"Emails and phones are keyed with the secret in ${PII_KEY_ENV}: it comes from the "
        "environment (your secret store), is never written into the data home, and must stay "
        "the same for as long as the home lives."
    )
    if generate_key:
        console.print("A new key; store it now, it is not written anywhere:")
        sys.stdout.write(secrets.token_hex(32) + "\n")
    console.print(f"Next: `marketing-ops doctor --home {h.root}`, then `marketing-ops run`.")


@app.command()
def doctor(home: Path | None = HomeOption) -> None:
    """Check a data home before a run: PII key, inbox folders, policies, fx rates, disk
    space, a writable warehouse and graph, the Dagster instance. One line per problem with
    its fix; exit code 2 when there is any."""
    h = data_home(home)
    _refuse_unless_ready(h)
    console.print(f"Data home {h.root}: ready for a run.", soft_wrap=True)


def _refuse_unless_ready(h: DataHome) -> None:
    """Stop here, with one line per problem and exit code 2, when the home fails a check."""
    from marketing_ops.doctor import diagnose

    problems = diagnose(h)
    for problem in problems:
        _print_problem(problem.line())
    if problems:
        raise typer.Exit(2)


def _print_problem(line: str) -> None:
    console.print(line, style="red", markup=False, soft_wrap=True, highlight=False)


def _holds_data(h: DataHome) -> bool:
    return h.warehouse.exists() or any(p.is_file() for p in h.archive.rglob("*"))


_MODEL_SOURCES = {
    "mmm": "media mix model of total conversions, posterior draws",
    "attributed": "fitted on attributed conversions",
}


def _demo_response_model(h: DataHome, days: int, end: date | None = None, seed: int = 7) -> str:
    """The response model the demo decides on: the home's ``response_model`` (default
    ``auto``: the media mix model of the total KPI from ``mmm.min_history_days`` days of
    history, a year) resolved on the demo's ``days``. With ``end`` (the simulated market's last
    day) the media mix model also gets the market's past lift studies
    (:func:`_demo_lift_studies`, never over a file a person wrote). Nothing is written into
    the home's settings."""
    from marketing_ops.forecasting import load_forecast_settings

    model = load_forecast_settings(h.settings / "forecasting.yaml").curves_model(days)
    if model == "mmm" and end is not None:
        _demo_lift_studies(h, end, seed)
    return model


def _demo_lift_studies(h: DataHome, end: date, seed: int) -> Path | None:
    """Write the simulated market's past lift studies as ``settings/experiments.csv`` (none
    when the file exists): per paid channel a 4-week conversion-lift study (a randomised
    audience holdout, the lift scaled to the whole audience: ``holdout_share`` 1, the channel's
    whole effect), read 4 weeks past its end, its tail a row of its own; each lift the
    simulator's true one plus noise of 15 % (:func:`marketing_ops.simulator.lift_studies`).
    The media mix model calibrates on them, each checked first, and with every channel's tail
    accepted the plan counts the carry-over (``budget.carryover_days: auto``)."""
    from marketing_ops.experiments.readout import experiment_rows
    from marketing_ops.forecasting.settings import EXPERIMENTS_FILE
    from marketing_ops.simulator import lift_studies, load_ground_truth
    from marketing_ops.simulator.lift_studies import PAST_STUDIES

    path = h.settings / EXPERIMENTS_FILE
    if path.exists():
        return None
    studies = lift_studies(load_ground_truth(h), end, seed, prefix="demo", **PAST_STUDIES)
    path.parent.mkdir(parents=True, exist_ok=True)
    experiment_rows(studies).to_csv(path, index=False)
    console.print(
        f"Past lift studies of the simulated market (a conversion-lift study per paid channel, "
        f"its tail read 4 weeks on): {path}; the media mix model calibrates on them."
    )
    return path


@app.command()
def demo(
    home: Path | None = HomeOption,
    days: int = typer.Option(730, help="Days of simulated history."),
    seed: int = typer.Option(7, help="Simulator seed (same seed, same market)."),
    postgres_url: str | None = PostgresOption,
) -> None:
    """Simulate a market into the data home, run the whole asset graph over it, print a summary."""
    from marketing_ops.cli._runs import prepare_instance, progress_view, run_window
    from marketing_ops.simulator import WorldConfig, generate_history, simulated_window

    os.environ.setdefault("MARKETING_OPS_DEMO", "1")
    h = open_home(home)
    if simulated_window(h) is None and _holds_data(h):
        _print_problem(
            f"demo: {h.root} holds data that was not simulated; the demo would mix a simulated "
            "market into it. Fix: `marketing-ops demo --home <an empty folder>`"
        )
        raise typer.Exit(2)
    _refuse_unless_ready(h)
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    window = simulated_window(h)
    if window is not None:
        start, end = window
        console.print(
            f"Market already simulated in {h.root} for {start}..{end} "
            "(re-using it; files are content-hashed, tables replaced per day)."
        )
    else:
        with spinner(f"Simulating {days} days of market signals (seed {seed})..."):
            summary = generate_history(h, WorldConfig(seed=seed, start=start, days=days))
        console.print(f"Simulated market written to {h.inbox}: {summary}")
    model = _demo_response_model(h, (end - start).days + 1, end, seed)
    console.print(
        f"Budget decisions rest on the {model} response curves ({_MODEL_SOURCES[model]})."
    )
    instance = prepare_instance(h, postgres_url)
    log = h.logs / "runs.log"
    console.print(f"Materialising the asset graph over {start}..{end} through Dagster:")
    outcomes = run_window(instance, start, end, output=log, progress=progress_view())
    ok = _print_runs(outcomes)
    console.print(f"Tool output (dbt) of these runs: {log}")
    _print_summary(h, end)
    if not ok:
        raise typer.Exit(1)


@app.command()
def run(
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    home: Path | None = HomeOption,
    postgres_url: str | None = PostgresOption,
) -> None:
    """Materialise a day range: signals and warehouse in one run, then decide as of END."""
    from marketing_ops.cli._runs import prepare_instance, progress_view, run_window

    s, e = parse_day(start, "--start"), parse_day(end, "--end")
    if e < s:
        raise typer.BadParameter("--end is before --start")
    h = open_home(home)
    _refuse_unless_ready(h)
    instance = prepare_instance(h, postgres_url)
    log = h.logs / "runs.log"
    console.print(f"Materialising {s}..{e} through Dagster:")
    outcomes = run_window(instance, s, e, output=log, progress=progress_view())
    console.print(f"Tool output (dbt) of these runs: {log}")
    if not _print_runs(outcomes):
        raise typer.Exit(1)


@app.command()
def status(home: Path | None = HomeOption) -> None:
    """What the data home holds: files, rows per table, the latest batch and autonomy."""
    from marketing_ops.warehouse import connect, table_exists

    h = open_home(home)
    table = Table(title=f"Data home {h.root}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for folder in ("inbox", "archive", "quarantine", "outbox"):
        n = sum(1 for p in (h.root / folder).rglob("*") if p.is_file())
        table.add_row(f"files in {folder}/", str(n))
    if h.warehouse.exists():
        with connect(h.warehouse, read_only=True) as con:
            rows = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ('raw','marts','agent') order by 1"
            ).fetchall()
            for (name,) in rows:
                if table_exists(con, name):
                    n = con.execute(f"select count(*) from {name}").fetchone()[
                        0
                    ]  # name from catalog
                    table.add_row(name, f"{n:,}")
    console.print(table)
    try:
        from marketing_ops.decisioning import autonomy_state

        console.print(f"Autonomy: {autonomy_state(h)}")
    except Exception as exc:  # status must work on a half-built home
        console.print(f"Autonomy: unknown ({exc})")


@app.command()
def autonomy(
    level: str = typer.Argument(
        ...,
        help="off (kill switch), recommend_only, approve_above_threshold, full, or 'policy' to defer to the policy files.",
    ),
    who: str = typer.Option("cli", "--as", help="Who sets it, for the ledger."),
    home: Path | None = HomeOption,
) -> None:
    """Set the global autonomy ceiling; `off` is the kill switch and wins over everything."""
    from marketing_ops.decisioning import set_global_autonomy

    state = set_global_autonomy(open_home(home), None if level == "policy" else level, who)
    console.print(f"Autonomy now: {state}")


@app.command()
def ui(home: Path | None = HomeOption, port: int = typer.Option(3000, help="Web UI port.")) -> None:
    """Start the Dagster UI (`dagster dev` via workspace.yaml) on the same data home."""
    from marketing_ops.cli._runs import ensure_dbt_manifest, prepare_instance

    h = open_home(home)
    _refuse_unless_ready(h)
    prepare_instance(h)
    ensure_dbt_manifest()
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-p", str(port)]
    console.print(f"DAGSTER_HOME={h.dagster_home}  ->  http://127.0.0.1:{port}")
    raise typer.Exit(subprocess.call(cmd, cwd=PROJECT_ROOT))


def _print_kpis(kpis, as_of: date) -> None:
    """Per channel over 28 days; ROAS and CAC only from the report's minimum spend up."""
    from marketing_ops.reporting import channel_summary, ratio_spend_floor

    summary = channel_summary(kpis, as_of)
    floor = ratio_spend_floor(summary["spend"])
    t = Table(
        title=f"KPIs per channel, last 28 days to {as_of}",
        caption=f"ROAS and CAC shown from {money(floor)} EUR of spend (-: less)",
    )
    for col in ("channel", "spend EUR", "platform conv.", "measured conv.", "revenue EUR",
                "CAC", "ROAS"):  # fmt: skip
        t.add_column(col, justify="right")
    for r in summary.itertuples():
        t.add_row(
            r.channel,
            money(r.spend),
            f"{r.platform_conversions:,.0f}",
            f"{r.conversions:,.0f}",
            money(r.revenue),
            money(r.cac) or "-",
            "-" if missing(r.roas) else f"{r.roas:,.2f}",
        )
    console.print(t)


def _number(value: float) -> str:
    return "-" if missing(value) else f"{value:.3f}"


def _print_mmm(summary, verdicts=None) -> None:
    """The media mix model's channel table (response_model: mmm), 80 % intervals, and the lift
    tests it was calibrated on (``verdicts``: the fit's, from the decision ledger)."""
    first = summary.iloc[0]
    verdict = "converged" if bool(first["converged"]) else "NOT converged: no decision uses it"
    t = Table(
        title=f"Media mix model fitted {first['fitted_on']} ({verdict}), 80 % intervals",
    )
    if verdicts is not None and len(verdicts):
        accepted = int(verdicts["accepted"].astype(bool).sum())
        t.caption = (
            f"calibrated by lift tests: {accepted} of {len(verdicts)} rows accepted "
            "(`marketing-ops explain` on a budget decision lists each verdict)"
        )
    for c in ("channel", "spend", "contribution", "ROAS", "marginal ROAS"):
        t.add_column(c, justify="left" if c == "channel" else "right")
    for r in summary.sort_values("channel").itertuples():
        t.add_row(
            r.channel,
            f"{r.spend:,.0f}",
            f"{r.contribution:,.0f} [{r.contribution_lo:,.0f}, {r.contribution_hi:,.0f}]",
            f"{r.roas:.2f} [{r.roas_lo:.2f}, {r.roas_hi:.2f}]",
            f"{r.mroas:.2f} [{r.mroas_lo:.2f}, {r.mroas_hi:.2f}]",
        )
    console.print(t)


def _fit_verdicts(h: DataHome, summary):
    """The lift-test verdicts the ledger holds for the fit behind ``summary`` (None: no fit)."""
    from marketing_ops.decisioning import verdict_frame

    if summary.empty or "fit_version" not in summary:
        return None
    return verdict_frame(h, str(summary["fit_version"].iloc[0]))


def _print_carryover(batch) -> None:
    """The days after the week the budget plan valued, and why (budget.carryover_days)."""
    import json

    from marketing_ops.decisioning.batch.explain import carryover_line

    budget = batch[batch["action_type"] == "budget_allocation"]
    if budget.empty:
        return
    carryover = json.loads(budget["rationale"].iloc[0]).get("carryover")
    if carryover:
        console.print(carryover_line(carryover).replace("**", ""))


def _print_summary(h, as_of: date) -> None:
    from marketing_ops.warehouse import connect, read_table

    with connect(h.warehouse, read_only=True) as con:
        kpis = read_table(
            con,
            "marts.fct_channel_kpis_daily",
            date_column="date_day",
            start=as_of - timedelta(days=27),
            end=as_of,
        )
        backtests = read_table(con, "agent.backtests")
        batch = read_table(con, "agent.decisions")
        mmm = read_table(con, "agent.mmm_channel_summary", date_column="as_of", end=as_of)
    if not kpis.empty:
        _print_kpis(kpis, as_of)
    if not mmm.empty:
        latest_fit = mmm[mmm["as_of"] == mmm["as_of"].max()]
        _print_mmm(latest_fit, _fit_verdicts(h, latest_fit))
    if not backtests.empty:
        latest = backtests[backtests["as_of"] == backtests["as_of"].max()]
        if "audience_id" in latest:  # channels' conversions here; the rest is in reports/
            latest = latest[latest["audience_id"].isna() & (latest["metric"] == "conversions")]
        t = Table(title="Forecast accuracy (rolling-origin backtest, 7-day horizon)")
        cols = [
            c
            for c in ("channel", "metric", "model", "mape", "smape", "mase", "coverage")
            if c in latest
        ]
        for c in cols:
            t.add_column(c, justify="right")
        for _, r in latest.sort_values(cols[:3]).iterrows():
            t.add_row(*[_number(r[c]) if isinstance(r[c], float) else str(r[c]) for c in cols])
        console.print(t)
    if not batch.empty:
        latest = batch[batch["batch_id"] == batch.sort_values("created_at")["batch_id"].iloc[-1]]
        print_decisions(latest, limit=8)
        _print_carryover(latest)
    console.print(
        "\nNext: `make ui` to explore the asset graph in Dagster, "
        "`marketing-ops decisions --format json` to export the batch, "
        "`marketing-ops status` for what the data home holds."
    )
