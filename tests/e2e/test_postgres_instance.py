"""The same project on a PostgreSQL-backed Dagster instance (dagster-postgres) against a real
Debian PostgreSQL server started by the test session."""

from __future__ import annotations

import sqlalchemy as sa
from worlds.markets import simulate_world

from marketing_ops.runner import prepare_instance, run_job


def test_materialises_on_postgres_instance(tmp_path, postgres_url, dbt_manifest) -> None:
    """Runs one day of signals and warehouse with run and event storage in PostgreSQL, and
    finds the run and its materialisations in PostgreSQL's tables."""
    home, start, end = simulate_world(tmp_path / "home", days=30, seed=3)
    instance = prepare_instance(home, postgres_url=postgres_url)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    outcome = run_job(instance, "ingest_and_model", end, end)
    assert outcome.success, outcome.failed_steps
    engine = sa.create_engine(postgres_url)
    with engine.connect() as con:
        runs = con.execute(
            sa.text("select count(*) from runs where run_id = :r"), {"r": outcome.run_id}
        ).scalar()
        mats = con.execute(
            sa.text(
                "select count(*) from event_logs where run_id = :r and dagster_event_type = 'ASSET_MATERIALIZATION'"
            ),
            {"r": outcome.run_id},
        ).scalar()
    engine.dispose()
    assert runs == 1
    assert mats >= 8  # every raw source plus the dbt models
