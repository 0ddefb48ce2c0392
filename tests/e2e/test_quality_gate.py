"""A failing blocking quality gate stops everything downstream for that day; fixing the
input and re-running heals it (on a copy of the shared flow world: no world of its own)."""

from __future__ import annotations

import csv
import io
import shutil

from marketing_ops.config import data_home
from marketing_ops.runner import PlainProgress, prepare_instance, run_job
from marketing_ops.warehouse import connect

HEADER = [
    "Day",
    "Campaign ID",
    "Campaign",
    "Impressions",
    "Clicks",
    "Cost",
    "Conversions",
    "Conv. value",
    "Currency code",
]


def _write_google_ads(path, day, cost: float) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerow(
            [day.isoformat(), "9000000101", "SEARCH | brand", 1000, 50, cost, 3, 240.0, "EUR"]
        )


def _batch_ids_as_of(home, day) -> set[str]:
    with connect(home.warehouse, read_only=True) as con:
        rows = con.execute(
            "select distinct batch_id from agent.decisions where as_of = ?", [day]
        ).fetchall()
    return {batch_id for (batch_id,) in rows}


def test_gate_failure_blocks_and_fix_heals(flow_world, tmp_path) -> None:
    """On a copy of the shared flow world: a restated spend file for its last day with an
    implausible row passes row validation but fails the GX gate on raw/google_ads, so the
    warehouse, forecasts and decisions for that day do not run (the day's batch stays the
    flow's). A corrected file for the same day replaces the bad row and the same run then
    decides the day again."""
    root = tmp_path / "home"
    shutil.copytree(flow_world.home.root, root)  # the runs below must not touch the shared world
    home, end = data_home(root), flow_world.end
    instance = prepare_instance(home)
    decided = _batch_ids_as_of(home, end)
    assert decided, "the flow world decided its last day"

    bad = home.inbox / "google_ads" / f"google_ads_{end.isoformat()}.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    _write_google_ads(bad, end, cost=9_999_999.0)  # supersedes the simulator's file of that day
    lines = io.StringIO()
    blocked = run_job(instance, "whole_flow", end, end, progress=PlainProgress(lines))
    assert not blocked.success
    assert any("gx_raw_google_ads" in s for s in blocked.failed_steps)
    # The terminal gets the failing step and its error's first line, then the full log's path.
    gate = next(s for s in blocked.failed_steps if "gx_raw_google_ads" in s)
    assert f"step {gate} failed: {blocked.errors[gate]}" in lines.getvalue()
    assert f"full log: {blocked.log_path}" in lines.getvalue()
    full_log = blocked.log_path.read_text()
    assert f"STEP_FAILURE {gate}" in full_log and blocked.errors[gate] in full_log
    # no decisions step started and finished (skipped or never reached, either way not run)
    assert not any(s.startswith("decisions") for s in blocked.step_seconds), blocked.step_seconds
    assert _batch_ids_as_of(home, end) == decided

    fixed = home.inbox / "google_ads" / f"google_ads_{end.isoformat()}_corrected.csv"
    _write_google_ads(fixed, end, cost=180.0)
    healed = run_job(instance, "whole_flow", end, end)
    assert healed.success, healed.failed_steps
    assert "decisions__decision_batch" in healed.step_seconds
    assert _batch_ids_as_of(home, end)
    with connect(home.warehouse, read_only=True) as con:
        rows = con.execute(
            "select campaign_id, spend, _file_name from raw.google_ads where date_day = ?", [end]
        ).fetchall()
    # Row identity (issue 15): the corrected row replaced exactly the restated campaign's row;
    # the simulator's rows for the day's other campaigns stay.
    restated = [(s, f) for c, s, f in rows if c == "9000000101"]
    assert restated == [(180.0, fixed.name)]
    assert max(s for _, s, _ in rows) < 9_999_999.0
    assert len({c for c, _, _ in rows}) > 1
