"""The embedded instance's event log (marketing_ops/event_storage.py): a ranged run's
materialisations written as one batch record exactly what Dagster's own SQLite storage records
one event at a time."""

from __future__ import annotations

import dagster as dg

from marketing_ops.config import data_home
from marketing_ops.event_storage import BatchedSqliteEventLogStorage
from marketing_ops.runner import EVENT_BATCH_ENV, prepare_instance

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-03-01")
KEY = dg.AssetKey("days")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def days(context) -> dg.MaterializeResult:
    """One result for the run's days (Dagster records one materialisation per day)."""
    start, end = context.partition_time_window
    return dg.MaterializeResult(
        metadata={"days": (end - start).days}, data_version=dg.DataVersion("v1")
    )


def _ranged_run(root, batch_size: str, monkeypatch):
    """The product's instance (its dagster.yaml), one run over 2026-01-05..2026-02-13."""
    monkeypatch.setenv(EVENT_BATCH_ENV, batch_size)
    monkeypatch.setenv("DAGSTER_HOME", str(root))  # restored after the test
    instance = prepare_instance(data_home(root).ensure())
    tags = {
        "dagster/asset_partition_range_start": "2026-01-05",
        "dagster/asset_partition_range_end": "2026-02-13",
    }
    result = dg.materialize([days], instance=instance, tags=tags)
    assert result.success
    records = instance.fetch_materializations(KEY, limit=1000).records
    storage = instance.event_log_storage
    recorded = sorted(
        (
            r.partition_key,
            r.asset_materialization.metadata["days"].value,
            tuple(sorted(tag.items()) for tag in storage.get_event_tags_for_asset(KEY, filter_event_id=r.storage_id)),
        )
        for r in records
    )  # fmt: skip
    in_run = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return instance, recorded, len(in_run)


def test_batched_materialisations_equal_dagsters_one_by_one(tmp_path, monkeypatch) -> None:
    instance, batched, batched_in_run = _ranged_run(tmp_path / "a", "1000", monkeypatch)
    assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
    latest = instance.get_latest_materialization_event(KEY)
    materialised = instance.get_materialized_partitions(KEY)

    other, one_by_one, one_by_one_in_run = _ranged_run(tmp_path / "b", "0", monkeypatch)
    # 40 days, each once in the run's shard and once in the index
    assert batched_in_run == one_by_one_in_run == 40
    assert len(batched) == 40
    assert materialised == other.get_materialized_partitions(KEY)
    assert sorted(materialised) == [p[0] for p in batched]
    # the same partitions, metadata and indexed tags (every event's data version under its id)
    assert batched == one_by_one
    assert all(any(("dagster/data_version", "v1") in t for t in tags) for _, _, tags in batched)
    # the asset's record points at the range's last day, as Dagster's own writes leave it
    assert latest.asset_materialization.partition == "2026-02-13"
    assert other.get_latest_materialization_event(KEY).asset_materialization.partition == (
        "2026-02-13"
    )
