"""Simulated markets for the tests that need real data: signal files written by the
simulator into a data home, optionally loaded through the real ingest path, modelled by a
real `dbt build` and graphed. Session fixtures build each once and share it read-only."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from marketing_ops.config import DataHome, data_home


def simulate_world(
    root: Path, days: int, seed: int, contacts: int = 400
) -> tuple[DataHome, date, date]:
    """`days` of simulated signal files ending two days ago. Returns (home, start, end)."""
    from marketing_ops.simulator import WorldConfig, generate_history

    home = data_home(root).ensure()
    end = date.today() - timedelta(days=2)
    start = end - timedelta(days=days - 1)
    generate_history(home, WorldConfig(seed=seed, start=start, days=days, contacts=contacts))
    return home, start, end


def simulate_and_load(
    root: Path, days: int = 14, contacts: int = 60, seed: int = 3
) -> tuple[DataHome, date]:
    """A small simulated market in a data home: its signal files loaded through the real
    ingest path (archive, file log, keyed PII), the warehouse built by a real `dbt build`
    (models and seeds), and the knowledge graph built from its marts. Returns (home, end)."""
    from marketing_ops.decisioning import ensure_default_policies

    home, start, end = simulate_world(root, days, seed, contacts)
    ensure_default_policies(home.policies)
    load_signals(home, start, end)
    models_and_seeds = ("--resource-type", "model", "--resource-type", "seed")
    dbt_build(home.warehouse, root.parent / f"{root.name}-dbt", *models_and_seeds,
              "--exclude", "fct_attribution_daily")  # fmt: skip
    graph_marts(home, end)
    return home, end


def load_signals(home: DataHome, start: date, end: date) -> None:
    from marketing_ops.signals import SOURCES
    from marketing_ops.signals.ingest import ingest_source
    from marketing_ops.signals.privacy import pii_key
    from marketing_ops.warehouse import connect

    with connect(home.warehouse) as con:
        for source in SOURCES:
            ingest_source(home, con, source, start, end, pii_key(demo=True))


def dbt_build(warehouse: Path, work: Path, *args: str) -> None:
    """A real `dbt build` (narrowed by `args`) into `warehouse`; logs and target under `work`."""
    from marketing_ops.config import DBT_PROJECT_DIR

    project = str(DBT_PROJECT_DIR)
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", project,
         "--profiles-dir", project, "--target-path", str(work / "target"), "--log-path",
         str(work / "logs"), *args],
        env={**os.environ, "MARKETING_OPS_WAREHOUSE": str(warehouse),
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True, text=True, cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]


def graph_marts(home: DataHome, as_of: date) -> None:
    """The knowledge graph of `as_of` built from the warehouse's marts, as the asset does."""
    from marketing_ops.defs.knowledge_graph.assets import policy_rules, read_graph_inputs
    from marketing_ops.graph import build_graph
    from marketing_ops.warehouse import connect

    with connect(home.warehouse, read_only=True) as con:
        graph_inputs = read_graph_inputs(con, as_of, policy_rules(home))
    build_graph(home.graph, graph_inputs, as_of=as_of, snapshots=home.graph_snapshots)
