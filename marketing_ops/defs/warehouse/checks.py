"""Quality gates: Great Expectations suites from `expectations/` as *blocking* asset checks.

A failing gate stops every downstream step of the run (forecasts, decisions) for that
partition window and says why in the check's metadata.
"""

import dagster as dg

from marketing_ops.defs.partitions import partition_window
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.quality import suite_for, validate_table, write_validation_report
from marketing_ops.warehouse import read_table

# (asset key, warehouse table, date column) per gated table.
GATED_TABLES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("raw", "google_ads"), "raw.google_ads", "date_day"),
    (("raw", "meta_ads"), "raw.meta_ads", "date_day"),
    (("marts", "fct_conversions"), "marts.fct_conversions", "date_day"),
    (("marts", "fct_channel_kpis_daily"), "marts.fct_channel_kpis_daily", "date_day"),
)


def build_gx_check(
    asset_key: tuple[str, ...], table: str, date_column: str
) -> dg.AssetChecksDefinition:
    suite = suite_for(table)
    if suite is None:
        raise FileNotFoundError(f"no expectation suite for {table} in expectations/")

    @dg.asset_check(
        asset=dg.AssetKey(list(asset_key)),
        name=f"gx_{table.replace('.', '_')}",
        blocking=True,
        pool=STORE_POOL,
        description=f"Great Expectations suite {suite.name} on the run's days of {table}.",
    )
    def _check(context: dg.AssetCheckExecutionContext, store: StoreResource) -> dg.AssetCheckResult:
        start, end = partition_window(context)
        with store.warehouse() as con:
            frame = read_table(con, table, date_column=date_column, start=start, end=end)
        outcome = validate_table(frame, suite)
        report = write_validation_report(
            [outcome], store.home().reports / f"validation_{table}.html"
        )
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": len(frame),
                "summary": dg.MetadataValue.md(outcome.markdown),
                "report": dg.MetadataValue.path(str(report)),
            },
        )

    return _check


gx_checks = [build_gx_check(*spec) for spec in GATED_TABLES]

defs = dg.Definitions(asset_checks=gx_checks)
