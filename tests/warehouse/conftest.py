"""Fixtures of the warehouse tests: one full dbt build of the raw world, shared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .world import dbt_build, load_raw


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse file after a full `dbt build`, the folder of that build's artifacts, and
    dbt's output of the build."""

    db: Path
    work: Path
    log: str


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """All three days loaded and built once (no vars: every day), with dbt's unit tests (the
    only DuckDB build that runs them). Shared read-only: a test that runs dbt again copies the
    file first."""
    work = tmp_path_factory.mktemp("warehouse")
    db = work / "warehouse.duckdb"
    load_raw(db)
    done = dbt_build(db, work, unit_tests=True)
    return BuiltWarehouse(db, work, done.stdout)
