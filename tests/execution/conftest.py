"""A real decision batch to execute: the shared decision world's batch (tests/worlds/decisions.py)
under the default policies at full autonomy."""

from __future__ import annotations

import pandas as pd
import pytest
from worlds.decisions import build_batch, with_autonomy

from marketing_ops.decisioning import PolicySet, load_policies


@pytest.fixture
def policies(home) -> PolicySet:
    return with_autonomy(load_policies(home.policies), "full")


@pytest.fixture
def full_batch(policies: PolicySet) -> pd.DataFrame:
    """Every action approved (full autonomy): budget for three channels, content for three audiences."""
    return build_batch(policies)
