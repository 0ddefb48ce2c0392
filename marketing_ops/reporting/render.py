"""The report page: charts as PNG files beside one HTML file, in the data home.

``reports/performance/<as-of day>/report.html`` with its pictures next to it (relative links,
so the folder can be copied or mailed whole), and ``reports/performance/latest.html`` pointing
at the newest one. Tables are escaped HTML; nothing is fetched from the network when the page
opens.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs inside Dagster workers
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from marketing_ops.config import DataHome  # noqa: E402
from marketing_ops.reporting.performance import (  # noqa: E402
    MIN_SPEND_SHARE,
    ReportData,
    collect_report_data,
    ratio_spend_floor,
)
from marketing_ops.warehouse import connect  # noqa: E402

__all__ = ["BuiltReport", "build_report", "latest_report", "render_report"]

REPORT_DIR = "performance"


@dataclass
class BuiltReport:
    path: Path
    charts: dict[str, Path] = field(default_factory=dict)
    data: ReportData | None = None

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    path.write_bytes(buf.getvalue())
    return path


def paid_channels(weekly: pd.DataFrame, min_share: float = MIN_SPEND_SHARE) -> list[str]:
    """Channels with at least ``min_share`` of all spend: ROAS means something only there."""
    spend = weekly.groupby("channel")["spend"].sum()
    total = spend.sum()
    return sorted(spend[spend >= min_share * total].index) if total > 0 else []


def _chart_spend_revenue(weekly: pd.DataFrame, path: Path) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    paid = set(paid_channels(weekly))
    for channel, rows in weekly.groupby("channel"):
        for ax, col in zip(axes, ("spend", "revenue", "roas"), strict=True):
            if col != "revenue" and channel not in paid:
                continue
            ax.plot(pd.to_datetime(rows["week"]), rows[col], marker=".", label=channel)
    for ax, title in zip(
        axes,
        ("Spend per week (EUR)", "Revenue per week (EUR)", "ROAS (revenue / spend)"),
        strict=True,
    ):
        ax.set_title(title)
        ax.tick_params(axis="x", labelrotation=30)
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].legend(loc="upper left", fontsize=7, ncol=2)
    return _save(fig, path)


def _chart_forecast(actuals: pd.DataFrame, forecasts: pd.DataFrame, path: Path) -> Path:
    channels = sorted(set(forecasts["channel"]) & set(actuals["channel"])) or sorted(
        set(actuals["channel"])
    )
    rows_n = max(1, (len(channels) + 1) // 2)
    fig, axes = plt.subplots(rows_n, 2, figsize=(14, 2.6 * rows_n), squeeze=False)
    for ax in axes.flat[len(channels) :]:
        ax.set_visible(False)
    for ax, channel in zip(axes.flat, channels, strict=False):
        a = actuals[actuals["channel"] == channel].sort_values("date_day")
        ax.plot(pd.to_datetime(a["date_day"]), a["revenue"], color="black", lw=1, label="actual")
        f = forecasts[(forecasts["channel"] == channel) & (forecasts["metric"] == "revenue")]
        for i, (made, rows) in enumerate(f.groupby("as_of")):
            rows = rows.sort_values("date_day")
            when = pd.to_datetime(rows["date_day"])
            label = "forecast (made " + pd.Timestamp(made).date().isoformat() + ")"
            ax.plot(
                when,
                rows["yhat"],
                color="tab:blue",
                alpha=0.5 + 0.5 * (i == f["as_of"].nunique() - 1),
                label=label if i == f["as_of"].nunique() - 1 else None,
            )
            ax.fill_between(
                when,
                rows["yhat_lower"].astype(float),
                rows["yhat_upper"].astype(float),
                color="tab:blue",
                alpha=0.15,
            )
        ax.set_title(f"{channel}: revenue, actual and forecast", fontsize=10)
        ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _chart_allocation(allocations: pd.DataFrame, path: Path) -> Path:
    rows = allocations.sort_values("channel")
    labels = [
        c if pd.isna(k) or k in ("", "None") else f"{c}\n{k}"
        for c, k in zip(rows["channel"], rows["campaign_id"], strict=True)
    ]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar([i - 0.2 for i in x], rows["last_period"].fillna(0), width=0.4, label="last period")
    ax.bar([i + 0.2 for i in x], rows["planned"].fillna(0), width=0.4, label="planned")
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_title("Budget per channel: last period against the plan (EUR)")
    ax.legend()
    return _save(fig, path)


# Amounts and counts in whole units: cents of a weekly budget tell a reader nothing.
WHOLE_COLUMNS = {"spend", "revenue", "amount", "expected_revenue", "last_period", "planned",
                 "cac", "conversions", "platform_conversions"}  # fmt: skip


# A cell longer than this may break anywhere (ids, long signal names); shorter ones never do
# (numbers, days, channels), so a table narrows by wrapping its text, not its figures.
UNBROKEN_CHARS = 24


def _table(frame: pd.DataFrame, empty: str, digits: int = 2) -> str:
    """An escaped HTML table, numbers rounded for people, in a box that scrolls sideways
    rather than widening the page."""
    if frame is None or frame.empty:
        return f"<p class='empty'>{html.escape(empty)}</p>"
    columns = []
    for col in frame.columns:
        values = frame[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if col == "change":
            cells = values.map(lambda v: "" if pd.isna(v) else f"{v:+.0%}")
        elif pd.api.types.is_float_dtype(values):
            places = 0 if col in WHOLE_COLUMNS else digits
            cells = values.map(lambda v, p=places: "" if pd.isna(v) else f"{v:,.{p}f}")
        elif (
            pd.api.types.is_datetime64_any_dtype(values) and (values.dt.normalize() == values).all()
        ):
            cells = values.map(lambda v: "" if pd.isna(v) else v.date().isoformat())  # days
        else:
            cells = values.map(lambda v: "" if v is None or v is pd.NA or v != v else str(v))
        long = cells.str.len().max() > UNBROKEN_CHARS
        kind = "num" if numeric or col == "change" else "wrap" if long else "text"
        columns.append((str(col).replace("_", " "), kind, cells.tolist()))
    head = "".join(f"<th class='{kind}'>{html.escape(name)}</th>" for name, kind, _ in columns)
    rows = "".join(
        "<tr>"
        + "".join(f"<td class='{kind}'>{html.escape(cells[k])}</td>" for _, kind, cells in columns)
        + "</tr>"
        for k in range(len(frame))
    )
    table = f"<table class='grid'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f"<div class='scroll'>{table}</div>"


def _ratio_note(summary: pd.DataFrame) -> str:
    if summary is None or summary.empty:
        return ""
    floor = ratio_spend_floor(summary["spend"])
    return (
        f"<p class='meta'>ROAS and CAC are left empty below {floor:,.0f} of spend (1% of all "
        "spend, at least 100): a few euros before one large order make a meaningless ratio.</p>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1d2330;max-width:1400px}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
.meta{color:#666} .empty{color:#888;font-style:italic}
table.grid{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
table.grid th,table.grid td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
table.grid .num{text-align:right} table.grid td.num,table.grid td.text{white-space:nowrap}
table.grid td.wrap{max-width:28rem;overflow-wrap:anywhere} .scroll{max-width:100%;overflow-x:auto}
table.grid th{background:#f5f6f8} img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;background:#eef;font-size:.85rem}
"""


def render_report(data: ReportData, folder: Path) -> BuiltReport:
    """Write the charts and the page into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    charts: dict[str, Path] = {}
    if not data.weekly.empty:
        charts["spend_revenue_roas"] = _chart_spend_revenue(
            data.weekly, folder / "spend_revenue_roas.png"
        )
    if not data.actuals.empty:
        charts["forecast_vs_actual"] = _chart_forecast(
            data.actuals,
            data.forecasts
            if not data.forecasts.empty
            else pd.DataFrame(
                columns=[
                    "channel",
                    "metric",
                    "as_of",
                    "date_day",
                    "yhat",
                    "yhat_lower",
                    "yhat_upper",
                ]
            ),
            folder / "forecast_vs_actual.png",
        )
    if not data.allocations.empty:
        charts["allocation"] = _chart_allocation(data.allocations, folder / "allocation.png")

    def img(name: str, alt: str) -> str:
        if name not in charts:
            return "<p class='empty'>No data for this chart yet.</p>"
        return f"<img src='{charts[name].name}' alt='{html.escape(alt)}'>"

    generated = datetime.now(UTC).isoformat(timespec="seconds")
    accuracy_cols = [
        c for c in ("channel", "metric", "model", "mape", "mase", "coverage") if c in data.accuracy
    ]
    sections = [
        f"<h1>Marketing performance</h1><p class='meta'>As of {data.as_of.isoformat()} · "
        f"batch <code>{html.escape(data.batch_id or 'none')}</code> · generated {generated}</p>",
        "<h2>Spend, revenue and ROAS per channel</h2>",
        img("spend_revenue_roas", "Weekly spend, revenue and ROAS per channel"),
        "<h3>Last 28 days</h3><p class='meta'>Measured conversions beside what the ad "
        "platforms claim (each platform counts conversions other channels also drove).</p>",
        _table(data.summary, "No KPIs yet."),
        _ratio_note(data.summary),
        "<h2>Forecast against actuals</h2>",
        img("forecast_vs_actual", "Daily revenue, actual and forecast with interval"),
        "<h3>Backtest accuracy (latest)</h3>",
        _table(
            data.accuracy[accuracy_cols] if accuracy_cols else data.accuracy, "No backtests yet.", 3
        ),
        "<h3>Forecast error of past forecasts</h3>",
        _table(data.forecast_error, "No past forecast has come due yet.", 3),
        "<h2>Allocation changes</h2>",
        img("allocation", "Budget per channel, last period against the plan"),
        _table(data.allocations, "No budget decisions in this batch."),
        "<h3>Batch by batch</h3>",
        _table(data.allocation_history.tail(40), "No budget decisions yet."),
        f"<h2>Pending approvals <span class='badge'>{len(data.pending)}</span></h2>",
        "<p class='meta'>Approve with <code>marketing-ops approve DECISION_ID --as NAME</code> "
        "or the <code>record_approval</code> job in the Dagster UI; only approvers listed in "
        "roles.yaml are accepted.</p>",
        _table(data.pending, "Nothing waits for approval."),
        "<h2>Drift status</h2>",
        f"<p><b>Autonomy:</b> {html.escape(data.autonomy)}</p>",
        _table(data.scoped_autonomy, "No channel or policy has been taken off autonomy."),
        "<h3>Drift findings</h3>",
        _table(data.drift, "No drift monitor output for this day."),
        "<h3>Signal freshness</h3>",
        _table(data.freshness, "No signal files loaded yet.", 0),
        "<h3>Recent alerts</h3>",
        _table(data.alerts, "No alerts."),
    ]
    if data.notes:
        sections.append(
            "<h3>Notes</h3><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in data.notes)
            + "</ul>"
        )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Marketing performance {data.as_of.isoformat()}</title><style>{_CSS}</style></head>"
        "<body>" + "\n".join(sections) + "</body></html>\n"
    )
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return BuiltReport(path, charts, data)


def build_report(home: DataHome, as_of: date) -> BuiltReport:
    """Gather, draw and write the report as of a day; point ``latest.html`` at it."""
    with connect(home.warehouse, read_only=True) as con:
        data = collect_report_data(con, home, as_of)
    root = home.reports / REPORT_DIR
    built = render_report(data, root / as_of.isoformat())
    newest = latest_report(home)
    if newest is not None:
        rel = newest.relative_to(root).as_posix()
        (root / "latest.html").write_text(
            "<!doctype html><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='0; url={rel}'>"
            f"<a href='{rel}'>Latest report</a>\n",
            encoding="utf-8",
        )
    return built


def latest_report(home: DataHome) -> Path | None:
    """The report of the latest as-of day written so far."""
    root = home.reports / REPORT_DIR
    found = sorted(root.glob("*/report.html")) if root.exists() else []
    return found[-1] if found else None
