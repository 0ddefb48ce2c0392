"""Run the asset graph against a real Dagster instance, from the CLI, tests and benchmarks.

The instance lives in the data home (`<home>/dagster`), so `make ui` shows every run the CLI
made. SQLite by default; PostgreSQL when a URL is given (dagster-postgres).

The code location (`marketing_ops.definitions`) is imported inside the functions that run it,
never at import: the definitions do not depend on the runner.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, TextIO

from marketing_ops.config import PROJECT_ROOT, DataHome
from marketing_ops.defs._shared import ensure_dbt_manifest

INGEST_JOB = "ingest_and_model"
DECIDE_JOB = "decide_and_act"
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"


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
    # And its materialisations, one per asset and day, reach the storage as one batch per
    # step (written in one transaction: PostgreSQL natively, SQLite by event_storage.py).
    os.environ.setdefault(EVENT_BATCH_ENV, "1000")
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
    # The first line of each failed step's innermost error, by step.
    errors: dict[str, str] = field(default_factory=dict)
    # Every event of the run as text, error stacks included (under the data home's logs/).
    log_path: Path | None = None
    # What the run wrote to the instance's event log (the Dagster overhead grows with these).
    events: int = 0
    materializations: int = 0


# --------------------------------------------------------------------------- progress
@dataclass
class RunProgress:
    """Where a run is, from its event stream: what a progress view shows."""

    job: str
    window: str
    total_steps: int
    log_path: Path
    done: int = 0
    running: str | None = None
    events: int = 0
    materializations: int = 0
    started: float = field(default_factory=time.monotonic)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class ProgressView(Protocol):
    """Receives a run's progress; the runner calls it from the executing thread."""

    def step_started(self, progress: RunProgress) -> None: ...

    def step_failed(self, progress: RunProgress, step: str) -> None: ...

    def step_finished(self, progress: RunProgress) -> None: ...

    def finished(self, progress: RunProgress, success: bool) -> None: ...


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"


class PlainProgress:
    """One line per step start, failure and run end: for logs, pipes and CI."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def _line(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def step_started(self, p: RunProgress) -> None:
        self._line(
            f"[{_clock(p.elapsed)}] {p.job} {p.window}: step {p.done + 1}/{p.total_steps} "
            f"{p.running}"
        )

    def step_failed(self, p: RunProgress, step: str) -> None:
        self._line(f"[{_clock(p.elapsed)}] {p.job}: step {step} failed: {p.errors[step]}")

    def step_finished(self, p: RunProgress) -> None:
        pass

    def finished(self, p: RunProgress, success: bool) -> None:
        verdict = "done" if success else "FAILED"
        self._line(
            f"[{_clock(p.elapsed)}] {p.job} {p.window}: {verdict}, {p.done}/{p.total_steps} "
            f"steps, {p.materializations} materialisations"
        )
        if p.errors:
            self._line(f"[{_clock(p.elapsed)}] full log: {p.log_path}")


class RichProgress:
    """A live bar on a terminal: steps done of total, the step running, elapsed time."""

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._bar = None
        self._task = None

    def _ensure(self, p: RunProgress) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
                # The run's own output is redirected to a log file meanwhile; the bar must
                # not capture (and later restore) sys.stdout around that.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(f"{p.job} {p.window}", total=p.total_steps)

    def step_started(self, p: RunProgress) -> None:
        self._ensure(p)
        self._bar.update(self._task, description=f"{p.job} {p.window}: {p.running}")

    def step_failed(self, p: RunProgress, step: str) -> None:
        self._ensure(p)
        self.console.print(
            f"step {step} failed: {p.errors[step]}", style="red", markup=False, highlight=False
        )

    def step_finished(self, p: RunProgress) -> None:
        self._ensure(p)
        self._bar.update(self._task, completed=p.done)

    def finished(self, p: RunProgress, success: bool) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=p.done, description=f"{p.job} {p.window}")
            self._bar.stop()
            self._bar = None
        if p.errors:
            self.console.print(f"full log: {p.log_path}", markup=False, highlight=False)


def progress_view(stream: TextIO | None = None) -> ProgressView:
    """A rich bar on a terminal, plain lines otherwise (pipes, CI, log files)."""
    stream = stream or sys.stderr
    if stream.isatty():
        from rich.console import Console

        return RichProgress(Console(file=stream))
    return PlainProgress(stream)


def _innermost_first_line(error) -> str:
    """The message people need: the root cause's first line, not Dagster's wrapper."""
    while error is not None and error.cause is not None:
        error = error.cause
    lines = (error.message if error is not None else "").strip().splitlines()
    return lines[0] if lines else "unknown error"


class _RunTracker:
    """Listens to one run's events: times its steps, writes every event to the run's log
    file and tells the progress view (if any) where the run is."""

    def __init__(self, progress: RunProgress, view: ProgressView | None) -> None:
        self.progress = progress
        self.view = view
        self.step_start: dict[str, float] = {}
        self.step_seconds: dict[str, float] = {}
        self.failed: list[str] = []
        self.skipped: list[str] = []
        progress.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = progress.log_path.open("w", encoding="utf-8")

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        self._write(entry)
        self.progress.events += 1
        if event is None:
            return
        kind, key, p = event.event_type_value, event.step_key, self.progress
        if kind == "STEP_START":
            self.step_start[key] = entry.timestamp
            p.running = key
            self.notify("step_started")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            p.done += 1
            if kind == "STEP_SKIPPED":
                self.skipped.append(key)
            else:
                self.step_seconds[key] = entry.timestamp - self.step_start.get(key, entry.timestamp)
            if kind == "STEP_FAILURE":
                self.failed.append(key)
                p.errors[key] = _innermost_first_line(event.step_failure_data.error)
                self.notify("step_failed", key)
            self.notify("step_finished")
        elif kind == "ASSET_MATERIALIZATION":
            p.materializations += 1

    def notify(self, what: str, *args) -> None:
        if self.view is not None:
            getattr(self.view, what)(self.progress, *args)

    def _write(self, entry) -> None:
        event = entry.dagster_event
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.timestamp))
        # the type's name (RUN_SUCCESS), not its stored value (PIPELINE_SUCCESS)
        kind = event.event_type.name if event else logging.getLevelName(entry.level)
        step = entry.step_key or "-"
        self.log.write(
            f"{stamp} {kind} {step} {entry.user_message or (event and event.message) or ''}\n"
        )
        if event is not None and event.event_type_value == "STEP_FAILURE":
            self.log.write(event.step_failure_data.error.to_string() + "\n")
        elif entry.error_info is not None:
            self.log.write(entry.error_info.to_string() + "\n")

    def close(self) -> None:
        self.log.close()


def _partition_kwargs(start: date, end: date) -> dict:
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    if start == end:
        return {"partition_key": start.isoformat(), "tags": {}}
    return {
        "tags": {
            ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
        }
    }


def _run_log_path(job_name: str, run_id: str, log_dir: Path | None) -> Path:
    from marketing_ops.config import data_home

    folder = log_dir or data_home().logs / "runs"
    return folder / f"{job_name}-{run_id}.log"


def run_job(
    instance,
    job_name: str,
    start: date,
    end: date,
    output: Path | None = None,
    progress: ProgressView | None = None,
    log_dir: Path | None = None,
) -> RunOutcome:
    """Execute one job over the inclusive day range [start, end] as a single run.

    ``output``: a file that receives what tools print during the run (dagster-dbt echoes
    dbt's whole log to stdout); the run's events stay in the instance either way.
    ``progress``: told of each step as the run's events arrive (`progress_view()` picks a
    bar on a terminal, plain lines otherwise). Every event is also written to the run's log
    file (``log_dir``, by default the data home's `logs/runs/`), named in the outcome."""
    from dagster._core.utils import make_new_run_id

    job = load_definitions().resolve_job_def(job_name)
    run_id = make_new_run_id()
    window = start.isoformat() if start == end else f"{start}..{end}"
    tracker = _RunTracker(
        RunProgress(
            job_name, window, len(job.graph.node_dict), _run_log_path(job_name, run_id, log_dir)
        ),
        progress,
    )
    instance.add_event_listener(run_id, tracker)
    # Runs keep their full event log in the instance (and the UI); the terminal gets warnings.
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    t0 = time.perf_counter()
    try:
        with _stdout_to(output):
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                raise_on_error=False,
                run_id=run_id,
                **_partition_kwargs(start, end),
            )
    finally:
        tracker.close()
    success = result.success and not tracker.failed
    tracker.notify("finished", success)
    return RunOutcome(
        job_name,
        run_id,
        success,
        time.perf_counter() - t0,
        tracker.step_seconds,
        tracker.failed,
        tracker.skipped,
        dict(tracker.progress.errors),
        tracker.progress.log_path,
        tracker.progress.events,
        tracker.progress.materializations,
    )


def run_window(
    instance,
    start: date,
    end: date,
    output: Path | None = None,
    progress: ProgressView | None = None,
) -> list[RunOutcome]:
    """Signals and warehouse over the whole window in one run, then the decision loop as of
    its last day. The decision loop does not run when a quality gate failed in the first."""
    outcomes = [run_job(instance, INGEST_JOB, start, end, output, progress)]
    if outcomes[0].success:
        outcomes.append(run_job(instance, DECIDE_JOB, end, end, output, progress))
    return outcomes
