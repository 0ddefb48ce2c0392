"""A small simulated world, materialised once through a real Dagster instance, shared by
the end-to-end tests of this folder."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from worlds.markets import simulate_world

from marketing_ops.config import DataHome

WORLD_DAYS = 120


@dataclass
class FlowWorld:
    home: DataHome
    start: date
    end: date
    outcomes: list
    progress: str  # the plain progress lines the runs printed


@pytest.fixture(scope="session")
def flow_world(tmp_path_factory, dbt_manifest) -> FlowWorld:
    from marketing_ops.runner import PlainProgress, prepare_instance, run_window

    home, start, end = simulate_world(tmp_path_factory.mktemp("flow-home"), WORLD_DAYS, seed=11)
    instance = prepare_instance(home)
    lines = io.StringIO()
    outcomes = run_window(instance, start, end, progress=PlainProgress(lines))
    return FlowWorld(home, start, end, outcomes, lines.getvalue())
