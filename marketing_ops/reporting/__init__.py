"""Reports people read: the performance report as an HTML page in the data home.

:mod:`.performance` gathers what the page shows from the warehouse and the ledgers (pure
frames in, frames out); :mod:`.render` draws the charts as PNG files and writes the page.
The Dagster asset ``reports/performance_report`` and ``marketing-ops report`` both call
:func:`build_report`.
"""

from marketing_ops.reporting.performance import (
    MIN_SPEND,
    MIN_SPEND_SHARE,
    ReportData,
    channel_summary,
    collect_report_data,
    ratio_spend_floor,
)
from marketing_ops.reporting.render import BuiltReport, build_report, latest_report

__all__ = [
    "MIN_SPEND",
    "MIN_SPEND_SHARE",
    "BuiltReport",
    "ReportData",
    "build_report",
    "channel_summary",
    "collect_report_data",
    "latest_report",
    "ratio_spend_floor",
]
