"""Fixtures: the default policies in a temporary data home."""

from __future__ import annotations

import pytest

from marketing_ops.config import DataHome, data_home
from marketing_ops.decisioning import PolicySet, ensure_default_policies, load_policies


@pytest.fixture
def home(tmp_path) -> DataHome:
    h = data_home(tmp_path / "home").ensure()
    ensure_default_policies(h.policies)
    return h


@pytest.fixture
def policies(home: DataHome) -> PolicySet:
    return load_policies(home.policies)
