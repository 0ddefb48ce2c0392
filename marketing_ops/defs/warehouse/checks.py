"""Quality gates: Great Expectations suites from `expectations/` as *blocking* asset checks.

A failing gate stops every downstream step of the run (the next dbt step, the graph,
forecasts, decisions) for that partition window and says why in the check's metadata, with a
link to an HTML report in the data home.

Where each suite runs decides what it protects:

- ``raw.*`` suites on the raw tables: a bad file stops all of dbt.
- ``staging.*`` suites on the staging views: bad source rows stop the models step.
- ``marts.fct_conversions`` and ``marts.fct_channel_kpis_daily`` on their *audit* tables
  (``intermediate.int_conversions__deduplicated``, ``intermediate.int_channel_kpis__daily``):
  the rows about to be published, so rows failing the gate never reach the marts decisions
  read (write, audit, publish; a check on the mart itself would run after the rows landed).
- ``marts.fct_attribution_daily`` on the mart: no decision reads it.
"""

from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd

from marketing_ops.defs._shared import STORE_POOL, StoreResource, run_window
from marketing_ops.quality import report_path, suite_for, validate_table, write_validation_report
from marketing_ops.warehouse import read_table


@dataclass(frozen=True)
class Gate:
    """One expectation suite, the relation it validates and the asset it is a check of."""

    suite: str  # expectations/<suite>.json
    relation: str  # the rows validated (the run's days of it)
    asset_key: tuple[str, ...]
    date_column: str

    @property
    def check_name(self) -> str:
        return f"gx_{self.suite.replace('.', '_')}"


GATES: tuple[Gate, ...] = (
    Gate("raw.google_ads", "raw.google_ads", ("raw", "google_ads"), "date_day"),
    Gate("raw.meta_ads", "raw.meta_ads", ("raw", "meta_ads"), "date_day"),
    Gate(
        "staging.stg_ga4__events",
        "staging.stg_ga4__events",
        ("staging", "stg_ga4__events"),
        "partition_date",
    ),
    Gate(
        "staging.stg_crm__deals",
        "staging.stg_crm__deals",
        ("staging", "stg_crm__deals"),
        "partition_date",
    ),
    Gate(
        "staging.stg_offline__conversions",
        "staging.stg_offline__conversions",
        ("staging", "stg_offline__conversions"),
        "partition_date",
    ),
    Gate(
        "staging.stg_email__events",
        "staging.stg_email__events",
        ("staging", "stg_email__events"),
        "partition_date",
    ),
    Gate(
        "marts.fct_conversions",
        "intermediate.int_conversions__deduplicated",
        ("intermediate", "int_conversions__deduplicated"),
        "date_day",
    ),
    Gate(
        "marts.fct_channel_kpis_daily",
        "intermediate.int_channel_kpis__daily",
        ("intermediate", "int_channel_kpis__daily"),
        "date_day",
    ),
    Gate(
        "marts.fct_attribution_daily",
        "marts.fct_attribution_daily",
        ("marts", "fct_attribution_daily"),
        "date_day",
    ),
)


def build_gx_check(gate: Gate) -> dg.AssetChecksDefinition:
    suite = suite_for(gate.suite)
    if suite is None:
        raise FileNotFoundError(f"no expectation suite {gate.suite} in expectations/")
    published = "" if gate.relation == gate.suite else f" (the rows {gate.suite} will publish)"

    @dg.asset_check(
        asset=dg.AssetKey(list(gate.asset_key)),
        name=gate.check_name,
        blocking=True,
        pool=STORE_POOL,
        description=(
            f"Great Expectations suite {gate.suite} on the run's days of {gate.relation}"
            f"{published}."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, store: StoreResource) -> dg.AssetCheckResult:
        # A gate on a view rebuilt whole still checks the run's days; with none, all of them.
        start, end = run_window(context) or (None, None)
        with store.warehouse() as con:
            frame = read_table(
                con, gate.relation, date_column=gate.date_column, start=start, end=end
            )
        if start is None:  # name the report after the days it saw
            days = pd.to_datetime(frame[gate.date_column]) if len(frame) else None
            start, end = (
                (days.min().date(), days.max().date()) if days is not None else (None, None)
            )
            start, end = start or date.today(), end or date.today()
        outcome = validate_table(frame, suite, day_column=gate.date_column)
        report = write_validation_report(
            [outcome], report_path(store.home().reports, gate.suite, start, end)
        )
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": len(frame),
                "flagged_below_threshold": len(outcome.flagged),
                "relation": gate.relation,
                "window": f"{start.isoformat()}..{end.isoformat()}",
                "summary": dg.MetadataValue.md(outcome.markdown),
                "report": dg.MetadataValue.path(str(report)),
                "report_url": dg.MetadataValue.url(report.as_uri()),
            },
        )

    return _check


gx_checks = [build_gx_check(gate) for gate in GATES]

defs = dg.Definitions(asset_checks=gx_checks)
