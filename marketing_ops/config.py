"""Where data lives. The one module that decides the data home's layout.

Nothing here reads the environment at import time: call :func:`data_home` when you need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

__all__ = [
    "DataHome",
    "data_home",
    "partition_days",
    "HISTORY_START",
    "PROJECT_ROOT",
    "DBT_PROJECT_DIR",
    "EXPECTATIONS_DIR",
]

HOME_ENV = "MARKETING_OPS_HOME"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_HOME = PROJECT_ROOT / "data_home"

# The first day the project can hold: the daily partitions start here, and signals before it
# are refused by the partitioning.
HISTORY_START = date(2024, 1, 1)


def partition_days(now: datetime | None = None) -> tuple[date, date]:
    """The first and last daily partitions that exist: HISTORY_START to today (UTC); today's
    partition exists so a closed loop can decide for today."""
    return HISTORY_START, (now or datetime.now(UTC)).astimezone(UTC).date()


@dataclass(frozen=True)
class DataHome:
    """The folder that holds everything one marketing_ops installation owns."""

    root: Path

    @property
    def inbox(self) -> Path:
        """Drop zone: ``inbox/<source>/`` (files as the tools export them)."""
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        """Every accepted file, kept: ``archive/<source>/<sha256>__<name>``."""
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        """Every rejected file with ``<name>.error.json`` beside it."""
        return self.root / "quarantine"

    @property
    def reference(self) -> Path:
        """Reference data people maintain: ``reporting.yaml`` and the ``fx_rates.csv`` table."""
        return self.root / "reference"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def graph(self) -> Path:
        """Kuzu database directory."""
        return self.root / "graph" / "marketing.kuzu"

    @property
    def graph_snapshots(self) -> Path:
        return self.root / "graph" / "snapshots"

    @property
    def outbox(self) -> Path:
        """Sandbox connector output: ``outbox/<channel>/<decision_id>.json``."""
        return self.root / "outbox"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger"

    @property
    def models(self) -> Path:
        """Fitted models kept by version: ``models/mmm/<fit version>.pkl`` (the last few)."""
        return self.root / "models"

    @property
    def policies(self) -> Path:
        """Policy YAML files people write (copied from defaults on first use)."""
        return self.root / "policies"

    @property
    def ground_truth(self) -> Path:
        """The simulator's truth. Only tests and benchmarks read it, never the product."""
        return self.root / "ground_truth"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def logs(self) -> Path:
        """Tool output of CLI runs (dbt's log stream), kept out of the terminal."""
        return self.root / "logs"

    @property
    def settings(self) -> Path:
        """Stage settings people edit besides policies (``forecasting.yaml``); a missing file
        means the packaged defaults."""
        return self.root / "settings"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def source_inbox(self, source: str) -> Path:
        return self.inbox / source

    def ensure(self) -> DataHome:
        """Create the home's folders (not ``ground_truth/``: the simulator makes it)."""
        for p in (
            self.inbox,
            self.archive,
            self.quarantine,
            self.reference,
            self.graph.parent,
            self.graph_snapshots,
            self.outbox,
            self.ledger,
            self.policies,
            self.reports,
            self.logs,
            self.dagster_home,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self


def data_home(root: str | os.PathLike[str] | None = None) -> DataHome:
    """The data home: ``root`` if given, else ``$MARKETING_OPS_HOME``, else ``./data_home``."""
    if root is None:
        root = os.environ.get(HOME_ENV) or DEFAULT_HOME
    return DataHome(Path(root).expanduser().resolve())
