"""A long run says where it is: progress lines from the Dagster event stream."""

from __future__ import annotations

import re

from marketing_ops.runner import DECIDE_JOB, INGEST_JOB


def test_ranged_run_prints_steps_done_of_total_with_the_window(flow_world) -> None:
    """The world's ingest run covers its whole range: one line per step, numbered up to the
    job's step count, each naming the range and the step, and a last line with the verdict;
    the decision run then reports its own day. Every event went to the run's log file."""
    lines = flow_world.progress.splitlines()
    window = f"{flow_world.start}..{flow_world.end}"
    ingest = [line for line in lines if f"{INGEST_JOB} {window}: step " in line]
    steps = [re.search(r"step (\d+)/(\d+) (\S+)", line).groups() for line in ingest]
    totals = {int(total) for _, total, _ in steps}
    assert len(totals) == 1 and len(steps) == totals.pop()
    assert [int(n) for n, _, _ in steps] == list(range(1, len(steps) + 1))
    assert any(step.startswith("warehouse_models") for _, _, step in steps)
    assert any(
        f"{INGEST_JOB} {window}: done, {len(steps)}/{len(steps)} steps" in line for line in lines
    )
    assert any(f"{DECIDE_JOB} {flow_world.end}: step 1/" in line for line in lines)
    assert all(re.match(r"\[\d+:\d\d:\d\d\] ", line) for line in lines)
    assert "full log" not in flow_world.progress  # nothing failed
    for outcome in flow_world.outcomes:
        log = outcome.log_path.read_text()
        assert "RUN_SUCCESS" in log and log.count("STEP_SUCCESS") == len(outcome.step_seconds)
