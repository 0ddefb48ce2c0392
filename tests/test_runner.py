"""The runner's progress: a run's event stream turned into steps done of total, the failing
step with its error's first line, and a full log file (a tiny job on an ephemeral instance;
the ranged run of a real world is in tests/e2e/test_progress.py)."""

from __future__ import annotations

import io

import dagster as dg
from dagster._core.utils import make_new_run_id

from marketing_ops.runner import PlainProgress, RichProgress, RunProgress, _RunTracker


@dg.op
def load_day() -> int:
    return 1


@dg.op
def publish_day(rows: int) -> int:
    raise RuntimeError(f"Set MARKETING_OPS_PII_KEY to key the {rows} rows\nsecond line")


@dg.op
def after_publish(rows: int) -> None:
    pass


@dg.job
def tiny():
    after_publish(publish_day(load_day()))


def _run_tiny(view, log_path) -> _RunTracker:
    """The tiny job on an ephemeral instance, its events through a tracker and ``view``."""
    instance = dg.DagsterInstance.ephemeral()
    progress = RunProgress("tiny", "2026-01-01..2026-01-03", 3, log_path)
    tracker = _RunTracker(progress, view)
    run_id = make_new_run_id()
    instance.add_event_listener(run_id, tracker)
    result = tiny.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)
    tracker.close()
    tracker.notify("finished", result.success)
    return tracker


def test_failure_names_the_step_the_root_cause_and_the_full_log(tmp_path) -> None:
    """Plain lines: each step as it starts, numbered of the job's total; the failing step
    with its root cause's first line; the verdict; the log file with the whole error."""
    lines = io.StringIO()
    tracker = _run_tiny(PlainProgress(lines), tmp_path / "runs" / "tiny.log")
    progress = tracker.progress

    text = lines.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in text] == [
        "tiny 2026-01-01..2026-01-03: step 1/3 load_day",
        "tiny 2026-01-01..2026-01-03: step 2/3 publish_day",
        "tiny: step publish_day failed: RuntimeError: Set MARKETING_OPS_PII_KEY to key the 1 rows",
        "tiny 2026-01-01..2026-01-03: FAILED, 2/3 steps, 0 materialisations",
        f"full log: {progress.log_path}",
    ]
    assert tracker.failed == ["publish_day"] and "after_publish" not in tracker.step_seconds
    log = progress.log_path.read_text()
    assert "second line" in log and "STEP_FAILURE publish_day" in log


def test_rich_bar_on_a_terminal_shows_the_same(tmp_path) -> None:
    """On a terminal the bar counts steps and the failure and log path are printed below."""
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    tracker = _run_tiny(RichProgress(console), tmp_path / "tiny.log")
    out = screen.getvalue()
    assert "step publish_day failed: RuntimeError: Set MARKETING_OPS_PII_KEY" in out
    assert f"full log: {tracker.progress.log_path}" in out
    assert "2/3" in out
