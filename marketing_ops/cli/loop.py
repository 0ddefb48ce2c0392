"""Commands that close the loop: `rollback`, `restore-autonomy`, `simulate-loop`.

Heavy imports happen inside the commands (`--help` stays fast).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from marketing_ops.cli._render import HomeOption, console, open_home
from marketing_ops.config import data_home

app = typer.Typer()


@app.command()
def rollback(
    batch_id: str = typer.Argument(..., help="The batch to roll back (B-...)."),
    who: str = typer.Option(..., "--as", help="Approver name, as listed in policies/roles.yaml."),
    reason: str = typer.Option("", help="Why, for the ledger."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be sent; send nothing."),
    home: Path | None = HomeOption,
) -> None:
    """Restore the allocations that ran before BATCH_ID, through the connectors, and record it.

    Each executed budget action of the batch is replaced by one at the amount of the previous
    executed batch for the same channel (or the spend of the period before, when there was
    none); executed sends get a cancel. The restore actions are approved in the ledger in
    your name before anything is sent; rolling back twice sends nothing new.
    """
    from marketing_ops.decisioning import ApprovalError, approve, autonomy_state, load_policies
    from marketing_ops.execution import connectors_from_env, execute_batch
    from marketing_ops.execution.rollback import plan_rollback, rollback_records
    from marketing_ops.warehouse import connect, read_table, replace_partition

    h = open_home(home)
    roles = load_policies(h.policies).roles
    person = roles.find(who)
    if person is None or not person.may("budget_allocation"):
        console.print(
            f"[red]refused: {who!r} is not an approver who may approve budget_allocation "
            "in roles.yaml; a rollback moves money[/red]"
        )
        raise typer.Exit(2)
    with connect(h.warehouse, read_only=True) as con:
        decisions = read_table(con, "agent.decisions")
    if decisions.empty:
        raise typer.BadParameter("BATCH_ID: no decisions in the warehouse yet")
    try:
        plan = plan_rollback(decisions, batch_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    state = autonomy_state(h)
    if state.kill_switch_on and not dry_run:
        console.print(
            f"[red]kill switch is on ({state}): nothing is sent, not even a rollback[/red]"
        )
        raise typer.Exit(1)
    if not dry_run:
        for a in plan.actions.to_dict("records"):
            original = plan.replaces[a["decision_id"]]
            kind = decisions.loc[decisions["decision_id"] == original, "action_type"].iloc[0]
            try:
                approve(
                    h,
                    a["decision_id"],
                    who,
                    roles,
                    action_type=str(kind),
                    reason=f"rollback of {batch_id}: {reason}".strip(": "),
                )
            except ApprovalError as exc:
                console.print(f"[red]refused: {exc}[/red]")
                raise typer.Exit(2) from None
    connectors = connectors_from_env(h)
    result = execute_batch(plan.actions, connectors, kill_switch_on=False, dry_run=dry_run)
    records = rollback_records(plan, result, who, reason)
    _print_rollback(records, dry_run)
    if dry_run:
        return
    undone = {
        plan.replaces[d]
        for d, s in zip(result["decision_id"], result["status"], strict=True)
        if s == "executed"
    }
    as_of = decisions.loc[decisions["batch_id"] == batch_id, "as_of"].iloc[0]
    with connect(h.warehouse) as con:
        day_rows = read_table(con, "agent.decisions", date_column="as_of", start=as_of, end=as_of)
        mask = day_rows["decision_id"].isin(undone) & (day_rows["status"] == "executed")
        day_rows.loc[mask, "status"] = "rolled_back"
        replace_partition(con, "agent.decisions", day_rows, as_of)
        replace_partition(con, "agent.rollbacks", records, batch_id)
    with (h.ledger / "rollbacks.jsonl").open("a") as f:
        f.write(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "batch_id": batch_id,
                    "rollback_id": plan.rollback_id,
                    "by": who,
                    "reason": reason,
                    "restored": {
                        r["replaces_decision_id"]: r["amount_restored"]
                        for r in records.to_dict("records")
                        if r["action_type"] == "budget_allocation"
                    },
                    "rolled_back": sorted(undone),
                },
                sort_keys=True,
            )
            + "\n"
        )
    if len(undone) < len(plan.replaces):
        console.print(
            f"[yellow]{len(plan.replaces) - len(undone)} restore action(s) not delivered; "
            "run the rollback again to retry[/yellow]"
        )
        raise typer.Exit(1)


def _print_rollback(records, dry_run: bool) -> None:
    t = Table(
        title=f"Rollback {records['rollback_id'].iloc[0]} of {records['batch_id'].iloc[0]}"
        + (" (dry run)" if dry_run else "")
    )
    for col in ("replaces", "action", "channel", "was EUR", "restored EUR", "from", "result"):
        t.add_column(col)
    for r in records.to_dict("records"):
        t.add_row(
            r["replaces_decision_id"],
            r["action_type"],
            str(r["channel"]),
            "" if r["amount_before"] != r["amount_before"] else f"{r['amount_before']:,.0f}",
            "" if r["amount_restored"] != r["amount_restored"] else f"{r['amount_restored']:,.0f}",
            r["restored_from"],
            r["note"],
        )
    console.print(t)


@app.command("restore-autonomy")
def restore_autonomy(
    scope: str = typer.Argument(..., help="budget, content or channel:<channel>."),
    who: str = typer.Option(..., "--as", help="Approver name, as listed in policies/roles.yaml."),
    reason: str = typer.Option("", help="Why it is safe again, for the ledger."),
    home: Path | None = HomeOption,
) -> None:
    """Lift the drift off-ramp for one scope: only a named approver may do it."""
    from marketing_ops.decisioning import (
        ApprovalError,
        load_policies,
        restore_scope_autonomy,
        scoped_autonomy,
    )

    h = open_home(home)
    before = scoped_autonomy(h)
    if scope not in before:
        console.print(f"{scope} is not lowered (lowered scopes: {', '.join(before) or 'none'})")
        return
    try:
        restore_scope_autonomy(h, scope, who, load_policies(h.policies).roles, reason)
    except (ApprovalError, ValueError) as exc:
        console.print(f"[red]refused: {exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"{scope}: autonomy restored by {who} (was {before[scope]})")


@app.command("simulate-loop")
def simulate_loop(
    days: int = typer.Option(60, "--days", help="Days to run the closed loop for."),
    history: int = typer.Option(730, "--history", help="Days of simulated history before it."),
    seed: int = typer.Option(7, "--seed", help="Simulator seed (7 = the demo market)."),
    measure_every: int = typer.Option(
        7, "--measure-every", help="Ingest and model the new days every N days (dbt run)."
    ),
    home: Path | None = typer.Option(
        None,
        "--home",
        help="Data home for the simulated world (default: <data home>/loop). Emptied first.",
    ),
    world: str | None = typer.Option(
        None,
        "--world",
        help="A hostile market that breaks attribution: over_claiming_platforms, "
        "search_takes_last_click, long_carry_over, saturated_channel, response_shock, "
        "all_at_once (default: the demo market).",
    ),
    testing_budget: float = typer.Option(
        0.0,
        "--testing-budget",
        help="EUR held by the agent's incrementality tests at once (testing.yaml, enabled; "
        "priced on the media mix model, approved when their expected cost fits: spend "
        "pulses, or geo tests with --geos); 0: no tests.",
    ),
    geos: int = typer.Option(
        0,
        "--geos",
        min=0,
        max=20,
        help="Regions the simulated market is split into (geographic ad reports, GA4 "
        "regions, geo KPIs in the warehouse; the agent's tests are then matched-market geo "
        "tests); under 2: one national market.",
    ),
) -> None:
    """Decide -> execute -> simulator outcome -> measure -> learn, day by day; then the agent's
    cumulative profit against a static campaign-by-campaign baseline and the oracle."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from marketing_ops.closed_loop import LoopConfig, run_loop
    from marketing_ops.simulator import hostile_world

    if world is not None:
        try:
            hostile_world(world)  # the name checked before the loop empties its home
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--world") from None
    root = Path(home) if home else data_home().root / "loop"
    cfg = LoopConfig(
        days=days,
        history_days=history,
        seed=seed,
        measure_every=measure_every,
        world=world,
        testing_budget_eur=testing_budget,
        geos=geos,
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("preparing the world", total=days)

        def tick(done: int, note: str) -> None:
            progress.update(task, completed=done, description=note)

        result = run_loop(root, cfg, progress=tick)
    console.print(result.table())
    for line in result.notes:
        console.print(line)
