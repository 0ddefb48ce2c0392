"""Freshness checks on every signal source (`raw/<source>`), from the data itself.

One check per source, evaluated together (one read of the file log): in every ingest run for
the sources it loads, and by the daily `signal_freshness` schedule shortly after the deadline,
so a source that simply stopped sending is flagged even when nothing runs. A stale source is a
warning, not a gate: decisions still run, and the report shows the lag.
"""

from datetime import UTC, datetime

import dagster as dg

from marketing_ops.defs._shared import STORE_POOL, StoreResource
from marketing_ops.quality.freshness import check_freshness, load_freshness_policy
from marketing_ops.signals import SOURCES
from marketing_ops.warehouse import table_exists

CHECK_NAME = "signal_freshness"
SPECS = [
    dg.AssetCheckSpec(
        CHECK_NAME,
        asset=dg.AssetKey(["raw", s]),
        description=f"raw/{s} has data up to the day the freshness policy expects by now.",
    )
    for s in SOURCES
]


def last_loaded_days(con) -> dict:
    """Newest day with a loaded file, per source."""
    if not table_exists(con, "raw.file_log"):
        return {}
    rows = con.execute(
        "select source, max(partition_date) from raw.file_log where status = 'loaded' "
        "group by source"
    ).fetchall()
    return {s: (d.date() if hasattr(d, "date") else d) for s, d in rows if d is not None}


@dg.multi_asset_check(specs=SPECS, can_subset=True, pool=STORE_POOL, name=CHECK_NAME)
def signal_freshness(context: dg.AssetCheckExecutionContext, store: StoreResource):
    home = store.home()
    policy = load_freshness_policy(home.reference / "freshness.yaml")
    with store.warehouse() as con:
        last_days = last_loaded_days(con)
    selected = sorted(k.asset_key.path[-1] for k in context.selected_asset_check_keys)
    now = datetime.now(UTC)
    for v in check_freshness(last_days, now, policy, selected):
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(["raw", v.source]),
            check_name=CHECK_NAME,
            passed=v.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=v.description,
            metadata={
                "last_day": str(v.last_day or ""),
                "expected_day": str(v.expected_day or ""),
                "days_late": v.days_late,
            },
        )


freshness_job = dg.define_asset_job(
    "signal_freshness_checks",  # not the check's own name: op and job names share a namespace
    selection=dg.AssetSelection.checks(signal_freshness),
    description="Evaluate the freshness of every signal source (no data is loaded).",
)

freshness_schedule = dg.ScheduleDefinition(
    name="signal_freshness_daily",
    job=freshness_job,
    cron_schedule="5 9 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Just after the default freshness deadline (09:00 UTC).",
)

defs = dg.Definitions(
    asset_checks=[signal_freshness], jobs=[freshness_job], schedules=[freshness_schedule]
)
