"""Fixtures of the governance tests: a data home with the default policies and one decision
batch recorded on the ledger and stored in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from marketing_ops.config import DataHome, data_home
from marketing_ops.decisioning import ensure_default_policies

from .world import record_day


@pytest.fixture
def home(tmp_path) -> DataHome:
    h = data_home(tmp_path / "home").ensure()
    ensure_default_policies(h.policies)
    return h


@dataclass
class Recorded:
    home: DataHome
    batch: pd.DataFrame
    entry: dict


@pytest.fixture
def recorded(home: DataHome) -> Recorded:
    batch, entry = record_day(home)
    return Recorded(home, batch, entry)
