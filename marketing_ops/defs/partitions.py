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


def as_of(context: dg.AssetExecutionContext) -> date:
    """Decisions are made as of the last day of the run's window."""
    return partition_window(context)[1]
