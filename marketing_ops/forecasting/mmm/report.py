"""The bring-your-own-data page: contribution over time, response curves with bands, a waterfall
and the diagnostics, as PNGs (matplotlib) in one static HTML file."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from marketing_ops.forecasting.mmm.posterior import contributions_over_time  # noqa: E402

__all__ = ["write_report"]


def _contributions_png(result, path: Path) -> None:
    frame = contributions_over_time(result.fit)
    wide = frame.pivot(index="date", columns="channel", values="mean")[
        list(result.fit.data.channels)
    ]
    kpi = result.fit.data.kpi.sum(axis=0)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(wide.index, kpi, color="black", lw=1, label=result.fit.data.kpi_name)
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=wide.columns, alpha=0.8)
    ax.set_title("Contribution over time (posterior mean) and the KPI")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _curves_png(result, path: Path) -> None:
    chans = list(result.fit.data.channels)
    cols = min(3, len(chans))
    rows = int(np.ceil(len(chans) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, ch in zip(axes.ravel(), chans, strict=False):
        c = result.curves[result.curves.channel == ch]
        ax.fill_between(c.spend, c.lo, c.hi, alpha=0.3, label="80 % band")
        ax.plot(c.spend, c["mean"], label="mean")
        now = c[c.is_current]
        ax.scatter(now.spend, now["mean"], color="red", zorder=3, label="current spend")
        ax.set_title(ch, fontsize=9)
    for ax in axes.ravel()[len(chans) :]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Response per period against spend per period")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _waterfall_png(result, path: Path) -> None:
    s = result.summary
    total = result.fit.data.kpi.sum()
    steps = [("base", total - s.contribution.sum()), *zip(s.channel, s.contribution, strict=True)]
    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = 0.0
    for name, value in steps:
        ax.bar(name, value, bottom=bottom, color="grey" if name == "base" else "tab:blue")
        bottom += value
    ax.bar("total", total, color="black")
    ax.set_title("Waterfall of the KPI over the history: base, then each channel")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


_STYLE = (
    "body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin-bottom:1em}"
    "th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "caption{text-align:left;font-weight:bold;padding:4px 0}"
)


def _html_table(table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in table.rows
    )
    return (
        f"<table><caption>{html.escape(table.title)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def write_report(result, directory: Path) -> Path:
    """Write ``index.html`` and its PNGs into ``directory``; returns the page's path. Its
    tables are the ones ``marketing-ops mmm fit`` prints (``byod.display_tables``)."""
    from marketing_ops.forecasting.mmm.byod import display_tables

    directory.mkdir(parents=True, exist_ok=True)
    for name, draw in (
        ("contributions.png", _contributions_png),
        ("curves.png", _curves_png),
        ("waterfall.png", _waterfall_png),
    ):
        draw(result, directory / name)
    d = result.fit.diagnostics
    verdict = "converged" if d.ok else "NOT converged: " + "; ".join(d.reasons)
    summary, diagnostics, *rest = display_tables(result)
    parts = [
        f"<h1>Media mix model of {html.escape(result.fit.data.kpi_name)}</h1>",
        f"<p><b>Diagnostics:</b> {html.escape(verdict)}</p>",
        _html_table(diagnostics),
        _html_table(summary),
        '<h2>Contribution over time</h2><img src="contributions.png">',
        '<h2>Response curves</h2><img src="curves.png">',
        '<h2>Waterfall</h2><img src="waterfall.png">',
        *(_html_table(t) for t in rest),
    ]
    page = directory / "index.html"
    page.write_text(
        f"<!doctype html><meta charset='utf-8'><title>MMM</title><style>{_STYLE}</style><body>"
        + "\n".join(parts)
        + "</body>"
    )
    return page
