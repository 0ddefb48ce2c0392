"""The loop's simulated world on disk: its data home, its warehouse tables, measuring new
days through the product's Dagster ingest job, and the knowledge graph rebuilt from the
marts with the graph package's own build."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd

from marketing_ops.config import DataHome, data_home

__all__ = [
    "measure",
    "prepare_home",
    "read",
    "rebuild_graph",
    "record_outcomes",
    "set_autonomy",
    "set_testing",
    "timed",
    "write",
]


@contextmanager
def timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    """Add the wall time of the block to ``timings[phase]``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - t0


def prepare_home(root: Path) -> DataHome:
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not (root / "ground_truth" / "world.json").exists():
            raise RuntimeError(
                f"{root} holds data that is not a simulated loop world; choose another --home"
            )
        shutil.rmtree(root)  # a previous simulated loop world: start afresh
    return data_home(root).ensure()


def set_autonomy(home: DataHome, level: str) -> None:
    import yaml

    from marketing_ops.decisioning import ensure_default_policies

    ensure_default_policies(home.policies)
    path = home.policies / "autonomy.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["autonomy"]["level"] = level
    path.write_text("# Set by simulate-loop for its own simulated world.\n" + yaml.safe_dump(doc))


def set_testing(home: DataHome, budget_eur: float, settings: tuple = ()) -> None:
    """Let the agent test (testing.yaml) with ``budget_eur`` held by the tests running at
    once. The simulated world has no approver at the keyboard: a test whose expected cost
    fits the testing budget is approved at the world's autonomy (``approval_above_eur`` =
    the budget, ``every_test_waits_for_approval`` off); the testing budget still bounds
    every proposal, as it does in the product. ``settings``: other testing.yaml keys and
    values (validated when the policies load)."""
    import yaml

    from marketing_ops.decisioning import ensure_default_policies

    ensure_default_policies(home.policies)
    path = home.policies / "testing.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["testing"].update(
        enabled=True,
        budget_eur=float(budget_eur),
        approval_above_eur=float(budget_eur),
        every_test_waits_for_approval=False,
    )
    doc["testing"].update(dict(settings))
    path.write_text("# Set by simulate-loop for its own simulated world.\n" + yaml.safe_dump(doc))


def read(home: DataHome, table: str, **kw) -> pd.DataFrame:
    from marketing_ops.warehouse import connect, read_table

    with connect(home.warehouse, read_only=True) as con:
        return read_table(con, table, **kw)


def write(home: DataHome, table: str, frame: pd.DataFrame, scope) -> None:
    from marketing_ops.warehouse import connect, replace_partition

    with connect(home.warehouse) as con:
        replace_partition(con, table, frame, scope)


def rebuild_graph(home: DataHome, day: date) -> None:
    """The knowledge graph as of ``day``, built as the graph asset builds it (the loop never
    retrieves content by meaning: no embeddings to compute)."""
    from marketing_ops.decisioning import ensure_default_policies, load_policies
    from marketing_ops.graph import build_graph, content_rules, embedder_for, read_graph_inputs
    from marketing_ops.warehouse import connect

    ensure_default_policies(home.policies)
    rules = content_rules(load_policies(home.policies))
    with connect(home.warehouse, read_only=True) as con:
        inputs = read_graph_inputs(con, day, rules)
    build_graph(
        home.graph, inputs, as_of=day, snapshots=home.graph_snapshots, embedder=embedder_for("off")
    )


def measure(home: DataHome, instance, first: date, last: date, timings: dict) -> None:
    """The days ``first..last`` through the product's ``ingest_and_model`` job, then the graph."""
    from marketing_ops.runner import INGEST_JOB, run_job

    with timed(timings, "measure (Dagster ingest + dbt)"):
        outcome = run_job(instance, INGEST_JOB, first, last)
    if not outcome.success:
        raise RuntimeError(
            f"ingest_and_model {first}..{last} failed: {outcome.failed_steps or outcome.skipped_steps}"
        )
    with timed(timings, "knowledge graph"):
        rebuild_graph(home, last)


def record_outcomes(home: DataHome, as_of: date) -> pd.DataFrame:
    """Outcomes of the executed decisions up to ``as_of``, stored as the measurement asset
    stores them."""
    from marketing_ops.measurement import agent_email_events, decision_outcomes

    decisions = read(home, "agent.decisions", date_column="as_of", end=as_of)
    if decisions.empty:
        return pd.DataFrame()
    kpis = read(home, "marts.fct_channel_kpis_daily", date_column="date_day", end=as_of)
    conversions = read(home, "marts.fct_conversions", date_column="date_day", end=as_of)
    events = agent_email_events(read(home, "raw.email_events"), decisions["decision_id"])
    out = decision_outcomes(decisions, kpis, conversions, events).assign(as_of=as_of)
    write(home, "agent.decision_outcomes", out, as_of)
    return out
