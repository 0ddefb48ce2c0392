"""`reports/performance_report`: the page people read, rebuilt after each decision turn."""

import dagster as dg
import pandas as pd

from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily
from marketing_ops.reporting import build_report

UPSTREAM = [
    dg.AssetKey(["decisions", "decision_batch"]),
    dg.AssetKey(["execution", "executed_actions"]),
    dg.AssetKey(["learning", "forecast_error"]),
    dg.AssetKey(["forecasts", "baselines"]),
    dg.AssetKey(["marts", "fct_channel_kpis_daily"]),
]


def _md(frame: pd.DataFrame, empty: str, digits: int = 2) -> dg.MetadataValue:
    if frame is None or frame.empty:
        return dg.MetadataValue.md(f"_{empty}_")
    return dg.MetadataValue.md(frame.round(digits).to_markdown(index=False))


@dg.asset(
    key=["reports", "performance_report"],
    group_name="learning",
    deps=UPSTREAM,
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"html", "matplotlib"},
    owners=["team:marketing-ops"],
)
def performance_report(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """An HTML page in the data home (`reports/performance/<day>/report.html`, charts as PNG
    beside it): spend, revenue and ROAS per channel over time, forecasts against actuals,
    allocation changes, pending approvals and drift status. `marketing-ops report --open`
    opens the latest."""
    day = as_of(context)
    built = build_report(store.home(), day)
    data = built.data
    context.log.info(f"report written to {built.path}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(built.path)),
            "report_url": dg.MetadataValue.url(built.url),
            **{f"chart_{k}": dg.MetadataValue.path(str(v)) for k, v in built.charts.items()},
            "kpis_last_28_days": _md(data.summary, "no KPIs yet"),
            "allocation_changes": _md(
                data.allocations.drop(columns=["batch_id"], errors="ignore"),
                "no budget decisions in this batch",
            ),
            "pending_approvals": _md(
                data.pending.drop(columns=["why"], errors="ignore"), "nothing waits for approval"
            ),
            "pending_count": len(data.pending),
            "drift_status": dg.MetadataValue.md(
                f"**Autonomy:** {data.autonomy}\n\n"
                + (
                    data.freshness.to_markdown(index=False)
                    if not data.freshness.empty
                    else "_no signal files yet_"
                )
            ),
        }
    )


defs = dg.Definitions(assets=[performance_report])
