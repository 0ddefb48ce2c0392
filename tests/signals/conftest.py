"""A real temporary data home and DuckDB warehouse for the ingest tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from marketing_ops.config import DataHome, data_home


@pytest.fixture
def home(tmp_path: Path) -> DataHome:
    return data_home(tmp_path / "home").ensure()


@pytest.fixture
def con(home: DataHome) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(home.warehouse))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(scope="session")
def definitions(dbt_manifest) -> dg.Definitions:
    """The real code location (loaded once: it parses the dbt manifest)."""
    from marketing_ops.runner import load_definitions

    return load_definitions()
