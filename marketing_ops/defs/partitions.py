"""The daily partitions every stage shares: a partition is the day the data describes,
and for the decision stages the day a decision is made *as of*."""

from datetime import date, timedelta

import dagster as dg

# The first day the project can hold. Signals before it are refused by the partitioning.
HISTORY_START = "2024-01-01"

# end_offset=1 lets today's partition exist, so a closed loop can decide for today.
daily = dg.DailyPartitionsDefinition(start_date=HISTORY_START, end_offset=1)


def partition_window(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[date, date]:
    """The inclusive first and last day of the run's partition or partition range."""
    op_context = getattr(context, "op_execution_context", context)
    window = op_context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def run_window(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[date, date] | None:
    """The run's days as seen from an unpartitioned asset or check (a staging view, its
    gate) that runs beside partitioned ones: the partition or range in the run's tags, or
    None when the run has no days (the whole relation is meant)."""
    op_context = getattr(context, "op_execution_context", context)
    if op_context.has_partition_key_range:
        return partition_window(context)
    tags = op_context.run.tags
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not start or not end:
        return None
    return date.fromisoformat(start), date.fromisoformat(end)


def as_of(context: dg.AssetExecutionContext) -> date:
    """Decisions are made as of the last day of the run's window."""
    return partition_window(context)[1]
