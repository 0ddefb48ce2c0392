"""The team set-up, for real: a PostgreSQL-backed instance (deploy/dagster.postgres.yaml), the
`dagster-daemon` process running the code location from workspace.yaml, and files dropped
into the inbox. Nobody launches anything: the daemon's inbox sensor requests the runs and the
run queue starts them. The daemon runs once for this module; the tests read what it did."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from processes import stop_group
from worlds.markets import simulate_world

from marketing_ops.config import PROJECT_ROOT, DataHome
from marketing_ops.warehouse import connect

DAYS = 3
WAIT_SECONDS = 600
TERMINAL = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


@dataclass
class DaemonRun:
    home: DataHome
    end: date
    dropped: list[Path]
    runs: list
    failures: list[tuple[str, list[str]]]
    storage: str
    log: str


def _messages(error) -> list[str]:
    """A step failure's message and the messages of its causes (dbt's own is inside)."""
    out = []
    while error is not None:
        out.append(error.message[-1500:])
        error = error.cause
    return out


@pytest.fixture(scope="module")
def daemon_run(tmp_path_factory, postgres_url, dbt_manifest) -> DaemonRun:
    tmp = tmp_path_factory.mktemp("team")
    home, _, end = simulate_world(tmp / "home", DAYS, seed=5, contacts=40)
    exported = tmp / "exported"
    shutil.move(home.inbox, exported)  # the tools' exports, not yet dropped
    home.inbox.mkdir()
    shutil.copyfile(
        PROJECT_ROOT / "deploy" / "dagster.postgres.yaml", home.dagster_home / "dagster.yaml"
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home.dagster_home),
        "MARKETING_OPS_HOME": str(home.root),
        "DAGSTER_PG_URL": postgres_url,
    }
    log_path = tmp / "daemon.log"
    with pytest.MonkeyPatch.context() as mp, log_path.open("w") as log:
        mp.setenv("DAGSTER_PG_URL", postgres_url)
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        instance = dg.DagsterInstance.from_config(str(home.dagster_home))
        try:
            dropped = sorted(p for p in exported.rglob("*") if p.is_file())
            for path in dropped:  # the drop: every source's files appear in the inbox
                target = home.inbox / path.relative_to(exported)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            runs: list = []
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline:
                assert daemon.poll() is None, log_path.read_text()[-3000:]
                runs = instance.get_runs(
                    filters=dg.RunsFilter(tags={"dagster/sensor_name": "inbox_sensor"})
                )
                if runs and all(r.status in TERMINAL for r in runs):
                    break
                time.sleep(5)
        finally:
            stop_group(daemon)
        failures = [
            (e.step_key, _messages(e.dagster_event.step_failure_data.error))
            for r in runs
            for e in instance.all_logs(r.run_id)
            if e.is_dagster_event and e.dagster_event.is_step_failure
        ]
        storage = type(instance.run_storage).__name__
        instance.dispose()
    return DaemonRun(home, end, dropped, runs, failures, storage, log_path.read_text())


def test_daemon_ingests_dropped_files_on_postgres(daemon_run) -> None:
    """The sensor, evaluated by the daemon, requested ingest_and_model runs that the run
    queue started on the PostgreSQL instance; every dropped file was loaded (or recognised
    as a duplicate), archived and logged, and its rows are in the warehouse."""
    run = daemon_run
    assert run.runs, f"no run requested by the inbox sensor: {run.log[-3000:]}"
    assert all(r.status in TERMINAL for r in run.runs), [r.status for r in run.runs]
    assert {r.job_name for r in run.runs} == {"ingest_and_model"}
    assert run.storage == "PostgresRunStorage"
    assert len(run.dropped) >= 6 * DAYS - 2
    with connect(run.home.warehouse, read_only=True) as con:
        logged = con.execute(
            "select count(*) from raw.file_log where status in ('loaded', 'duplicate')"
        ).fetchone()[0]
        rows = con.execute(
            "select count(*) from raw.ga4_events where event_date between ? and ?",
            [run.end - timedelta(days=DAYS - 1), run.end],
        ).fetchone()[0]
    assert logged == len(run.dropped)
    assert rows > 100
    assert not any(p.is_file() for p in run.home.inbox.rglob("*"))  # all archived
    assert not [s for s, _ in run.failures if s and s.startswith("raw")]


def test_daemon_runs_build_the_warehouse(daemon_run) -> None:
    """The same runs also build the warehouse on a fresh DuckDB file: every run succeeded
    (the seeds and the models built from them alone are in the sensor's selection) and the
    daily KPI mart has each dropped day."""
    assert not daemon_run.failures, daemon_run.failures
    with connect(daemon_run.home.warehouse, read_only=True) as con:
        days = con.execute(
            "select count(distinct date_day) from marts.fct_channel_kpis_daily"
        ).fetchone()[0]
    assert days == DAYS
