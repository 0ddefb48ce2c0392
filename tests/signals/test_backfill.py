"""Backfills: two years of signals and warehouse partitions are one run, not 730."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from dagster._core.definitions.automation_tick_evaluation_context import (
    build_run_requests_with_backfill_policies,
)
from dagster._core.definitions.events import AssetKeyPartitionKey

from marketing_ops.defs._shared import daily
from marketing_ops.defs.jobs import INGEST_GROUPS


def test_ui_backfill_of_two_years_is_a_single_run(definitions: dg.Definitions) -> None:
    """Selecting every signals and warehouse asset over 730 days, as a backfill launched from
    the UI does, gives one run over the whole range: the run requests come from the same
    function Dagster's backfill daemon uses, so a policy that is not single-run anywhere in
    the selection (a dbt model, a raw source) would split it."""
    graph = definitions.resolve_asset_graph()
    selected = dg.AssetSelection.groups(*INGEST_GROUPS).resolve(graph)
    # dbt models and the channel-grouping config are unpartitioned (one event per run, with
    # its window); a backfill covers the partitioned assets: raw sources, the days published.
    keys = {k for k in selected if graph.get(k).is_partitioned}
    unpartitioned = selected - keys
    assert all(k.path[0] in {"config", "staging", "intermediate", "marts"} for k in unpartitioned)
    assert dg.AssetKey(["raw", "ga4"]) in keys
    assert dg.AssetKey(["warehouse", "days_published"]) in keys and len(keys) > 8
    last = daily.get_last_partition_key()
    end = daily.time_window_for_partition_key(last).start.date()
    start = end - timedelta(days=729)
    partitions = daily.get_partition_keys_in_range(
        dg.PartitionKeyRange(start.isoformat(), end.isoformat())
    )
    assert len(partitions) == 730

    requests = build_run_requests_with_backfill_policies(
        [AssetKeyPartitionKey(k, p) for k in keys for p in partitions],
        graph,
        dg.DagsterInstance.ephemeral(),
    )

    assert len(requests) == 1
    (request,) = requests
    assert set(request.asset_selection) == set(keys)
    assert request.tags["dagster/asset_partition_range_start"] == start.isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == end.isoformat()
