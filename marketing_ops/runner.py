"""Run the asset graph against a real Dagster instance, from the CLI, tests and benchmarks.

The instance lives in the data home (`<home>/dagster`), so `make ui` shows every run the CLI
made. SQLite by default; PostgreSQL when a URL is given (dagster-postgres).

The code location (`marketing_ops.definitions`) is imported inside the functions that run it,
never at import: the definitions do not depend on the runner.
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from marketing_ops.config import PROJECT_ROOT, DataHome
from marketing_ops.defs._shared import ensure_dbt_manifest

INGEST_JOB = "ingest_and_model"
DECIDE_JOB = "decide_and_act"
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def quiet_dagster() -> None:
    """Dagster 1.13 warns about beta and superseded APIs on every load; keep the CLI readable."""
    try:
        from dagster import BetaWarning, PreviewWarning, SupersessionWarning

        for category in (BetaWarning, PreviewWarning, SupersessionWarning):
            warnings.filterwarnings("ignore", category=category)
    except ImportError:  # pragma: no cover - older dagster
        pass
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def prepare_instance(home: DataHome, postgres_url: str | None = None):
    """Point DAGSTER_HOME at the data home and write its dagster.yaml; return the instance."""
    from dagster import DagsterInstance

    home.ensure()
    # A run over a day range would otherwise log one "materialisation planned" event per
    # asset and day before its first step (measured: 24,090 events, 15 minutes, for the
    # demo's 730 days); with this, one event per asset carries the whole range.
    os.environ.setdefault(PLANNED_EVENTS_ENV, "true")
    os.environ["MARKETING_OPS_HOME"] = str(home.root)
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    template = "deploy/dagster.postgres.yaml" if postgres_url else "dagster.yaml"
    if postgres_url:
        os.environ["DAGSTER_PG_URL"] = postgres_url
    shutil.copyfile(PROJECT_ROOT / template, home.dagster_home / "dagster.yaml")
    return DagsterInstance.get()


def load_definitions():
    """The code location, with the dbt manifest prepared first (loading only reads it)."""
    quiet_dagster()
    ensure_dbt_manifest()
    from marketing_ops.definitions import defs

    return defs


@contextmanager
def _stdout_to(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f, redirect_stdout(f):
        yield


@dataclass
class RunOutcome:
    job: str
    run_id: str
    success: bool
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)


def run_job(
    instance, job_name: str, start: date, end: date, output: Path | None = None
) -> RunOutcome:
    """Execute one job over the inclusive day range [start, end] as a single run.

    ``output``: a file that receives what tools print during the run (dagster-dbt echoes
    dbt's whole log to stdout); the run's events stay in the instance either way."""
    from dagster import DagsterEventType
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    defs = load_definitions()
    job = defs.resolve_job_def(job_name)
    if start == end:
        kwargs = {"partition_key": start.isoformat(), "tags": {}}
    else:
        kwargs = {
            "tags": {
                ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
            }
        }
    # Runs keep their full event log in the instance (and the UI); the terminal gets warnings.
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    t0 = time.perf_counter()
    with _stdout_to(output):
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, **kwargs
        )
    seconds = time.perf_counter() - t0
    step_start: dict[str, float] = {}
    step_seconds: dict[str, float] = {}
    failed, skipped = [], []
    # The instance's event log has timestamps; the in-process result's events do not.
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        key = event.step_key
        if event.event_type == DagsterEventType.STEP_START:
            step_start[key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            step_seconds[key] = entry.timestamp - step_start.get(key, entry.timestamp)
            if event.event_type == DagsterEventType.STEP_FAILURE:
                failed.append(key)
        elif event.event_type == DagsterEventType.STEP_SKIPPED:
            skipped.append(key)
    return RunOutcome(
        job_name,
        result.run_id,
        result.success and not failed,
        seconds,
        step_seconds,
        failed,
        skipped,
    )


def run_window(instance, start: date, end: date, output: Path | None = None) -> list[RunOutcome]:
    """Signals and warehouse over the whole window in one run, then the decision loop as of
    its last day. The decision loop does not run when a quality gate failed in the first."""
    outcomes = [run_job(instance, INGEST_JOB, start, end, output)]
    if outcomes[0].success:
        outcomes.append(run_job(instance, DECIDE_JOB, end, end, output))
    return outcomes
