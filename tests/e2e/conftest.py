"""A small simulated world, materialised once through a real Dagster instance, shared by
the end-to-end tests of this folder."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from marketing_ops.config import DataHome, data_home

WORLD_DAYS = 120


@dataclass
class FlowWorld:
    home: DataHome
    start: date
    end: date
    outcomes: list
    progress: str  # the plain progress lines the runs printed


def simulate_world(root, days: int = WORLD_DAYS, seed: int = 11) -> tuple[DataHome, date, date]:
    from marketing_ops.simulator import WorldConfig, generate_history

    home = data_home(root).ensure()
    end = date.today() - timedelta(days=2)
    start = end - timedelta(days=days - 1)
    generate_history(home, WorldConfig(seed=seed, start=start, days=days, contacts=400))
    return home, start, end


@pytest.fixture(scope="session")
def flow_world(tmp_path_factory, dbt_manifest) -> FlowWorld:
    from marketing_ops.runner import PlainProgress, prepare_instance, run_window

    home, start, end = simulate_world(tmp_path_factory.mktemp("flow-home"))
    instance = prepare_instance(home)
    lines = io.StringIO()
    outcomes = run_window(instance, start, end, progress=PlainProgress(lines))
    return FlowWorld(home, start, end, outcomes, lines.getvalue())
