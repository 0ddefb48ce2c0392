"""A failing blocking quality gate stops everything downstream for that day; fixing the
input and re-running heals it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from marketing_ops.runner import PlainProgress, prepare_instance, run_job
from marketing_ops.warehouse import connect, table_exists

from .conftest import simulate_world

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


def _batches_as_of(home, day) -> int:
    with connect(home.warehouse, read_only=True) as con:
        if not table_exists(con, "agent.decisions"):
            return 0
        return con.execute(
            "select count(*) from agent.decisions where as_of = ?", [day]
        ).fetchone()[0]


def test_gate_failure_blocks_and_fix_heals(tmp_path, dbt_manifest) -> None:
    """An implausible spend row passes row validation but fails the GX gate on raw/google_ads:
    the warehouse, forecasts and decisions for that day do not run. A corrected file for the
    same day supersedes the bad one and the same run then produces a decision batch."""
    home, start, end = simulate_world(tmp_path / "home", days=60, seed=5)
    instance = prepare_instance(home)
    ok = run_job(instance, "ingest_and_model", start, end - timedelta(days=1))
    assert ok.success, ok.failed_steps

    bad = home.inbox / "google_ads" / f"google_ads_{end.isoformat()}.csv"
    _write_google_ads(bad, end, cost=9_999_999.0)  # replaces the simulator's file for that day
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
    assert "decisions__decision_batch" in blocked.skipped_steps or not any(
        s.startswith("decisions") for s in blocked.step_seconds
    )
    assert _batches_as_of(home, end) == 0

    fixed = home.inbox / "google_ads" / f"google_ads_{end.isoformat()}_corrected.csv"
    _write_google_ads(fixed, end, cost=180.0)
    healed = run_job(instance, "whole_flow", end, end)
    assert healed.success, healed.failed_steps
    assert _batches_as_of(home, end) > 0
    with connect(home.warehouse, read_only=True) as con:
        max_spend = con.execute(
            "select max(spend) from raw.google_ads where date_day = ?", [end]
        ).fetchone()[0]
    assert max_spend == 180.0
