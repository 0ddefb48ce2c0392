"""Fixtures of the governance tests: one decision batch of the shared decision world recorded
on the ledger and stored in the warehouse, and a small simulated market loaded once."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
from worlds.decisions import record_day

from marketing_ops.config import DataHome


@dataclass
class Recorded:
    home: DataHome
    batch: pd.DataFrame
    entry: dict


@pytest.fixture
def recorded(home: DataHome) -> Recorded:
    batch, entry = record_day(home)
    return Recorded(home, batch, entry)


@dataclass
class LoadedWorld:
    home: DataHome
    end: object


@pytest.fixture(scope="session")
def loaded_world(tmp_path_factory) -> LoadedWorld:
    """A small simulated market loaded, modelled by dbt and graphed (about 30 s, once).
    Read-only: a test that changes it works on a copy (:func:`world_copy`)."""
    from worlds.markets import simulate_and_load

    home, end = simulate_and_load(tmp_path_factory.mktemp("governance-world") / "home")
    return LoadedWorld(home, end)


@pytest.fixture
def world_copy(loaded_world, tmp_path) -> LoadedWorld:
    import shutil

    from marketing_ops.config import data_home

    root = tmp_path / "home"
    shutil.copytree(loaded_world.home.root, root)
    return LoadedWorld(data_home(root).ensure(), loaded_world.end)
