"""Which resources exist and where they point. The one place that decides the environment.

Nothing is read from the environment at import time: the data home and secrets are resolved
when a run asks for them.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject

from marketing_ops.config import DBT_PROJECT_DIR, DataHome, data_home
from marketing_ops.warehouse import connect

# Every step that opens the DuckDB file (and so also the Kuzu graph, which only such steps
# touch) runs in this pool; dagster.yaml limits each pool to one step at a time, across runs.
STORE_POOL = "duckdb"

DEMO_ENV = "MARKETING_OPS_DEMO"


class StoreResource(dg.ConfigurableResource):
    """The data home and the warehouse inside it."""

    home_root: str | None = None

    def home(self) -> DataHome:
        return data_home(self.home_root).ensure()

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.home().warehouse) as con:
            yield con

    def demo_mode(self) -> bool:
        return os.environ.get(DEMO_ENV, "") == "1"

    def pii_key(self) -> bytes:
        from marketing_ops.signals.privacy import pii_key

        return pii_key(demo=self.demo_mode())


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt next to this interpreter: the venv need not be activated (STACK_NOTES)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def resources() -> dict[str, object]:
    return {
        "store": StoreResource(),
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }
