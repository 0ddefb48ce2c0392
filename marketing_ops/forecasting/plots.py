"""PNG pictures for run metadata and the report folder: forecasts with intervals against
actuals, response and marginal-ROI curves with their bootstrap bands, fitted vs actual."""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")  # headless: runs inside Dagster steps and forked workers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = [
    "markdown_image",
    "plot_backtest",
    "plot_audience_forecasts",
    "plot_forecast",
    "plot_forecasts",
    "plot_response_curves",
    "plot_response_fit",
]


def _png(fig, dpi: int = 80) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """Markdown that shows a PNG inline (Dagster's UI renders data-URI images in md metadata)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def _draw_series(ax, actual: pd.DataFrame, fc: pd.DataFrame, metric: str, title: str) -> None:
    ax.plot(pd.to_datetime(actual["date_day"]), actual[metric], color="black", lw=0.8)
    fd = pd.to_datetime(fc["date_day"])
    ax.plot(fd, fc["yhat"], color="tab:blue", lw=1.5)
    ax.fill_between(
        fd,
        fc["yhat_lower"].astype(float),
        fc["yhat_upper"].astype(float),
        alpha=0.3,
        color="tab:blue",
    )
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    for label in ax.get_xticklabels():
        label.set_rotation(30)


def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    channel: str,
    metric: str = "conversions",
    days: int = 90,
) -> bytes:
    """One channel: the last ``days`` of actuals, then the forecast and its interval."""
    h = history[history["channel"] == channel].sort_values("date_day").tail(days)
    f = forecast[(forecast["channel"] == channel) & (forecast["metric"] == metric)]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _draw_series(ax, h, f.sort_values("date_day"), metric, f"{channel}: {metric}")
    ax.legend(["actual", "forecast", "interval"], loc="upper left", fontsize=8)
    return _png(fig)


def _grid(n: int):
    cols = min(4, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat


def plot_forecasts(
    history: pd.DataFrame, forecast: pd.DataFrame, metric: str = "conversions", days: int = 56
) -> bytes:
    """Every channel: actuals (black) then the forecast (blue) with its interval."""
    f = forecast[(forecast["metric"] == metric) & forecast["channel"].notna()]
    channels = sorted(f["channel"].unique())
    fig, axes = _grid(len(channels))
    for ax, ch in zip(axes, channels, strict=False):
        h = history[history["channel"] == ch].sort_values("date_day").tail(days)
        _draw_series(ax, h, f[f["channel"] == ch].sort_values("date_day"), metric, ch)
    fig.suptitle(f"{metric}: actuals and forecast with interval", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def plot_audience_forecasts(
    audiences: pd.DataFrame, forecast: pd.DataFrame, metric: str = "conversions", days: int = 56
) -> bytes:
    """Every forecast audience segment, as :func:`plot_forecasts` does for channels."""
    f = forecast[(forecast["metric"] == metric) & forecast["audience_id"].notna()]
    segments = sorted(f["audience_id"].unique())
    fig, axes = _grid(len(segments))
    for ax, seg in zip(axes, segments, strict=False):
        h = audiences[audiences["audience_id"] == seg].sort_values("date_day").tail(days)
        _draw_series(ax, h, f[f["audience_id"] == seg].sort_values("date_day"), metric, seg)
    fig.suptitle(f"{metric} per audience: actuals and forecast", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def plot_response_curves(responses: dict, level: float = 0.8) -> bytes:
    """Steady-state daily revenue and marginal ROI per channel against daily spend, with the
    bootstrap band; the dot marks the last four weeks' spend."""
    n = max(len(responses), 1)
    fig, axes = plt.subplots(2, n, figsize=(3.4 * n, 5.6), squeeze=False)
    q = (1 - level) / 2
    for col, (ch, fr) in enumerate(sorted(responses.items())):
        c = fr.curve
        current = float(getattr(fr, "current_daily_spend", 0.0) or 0.0)
        # Up to three times today's spend: the range a budget decision moves in.
        top = current * 3 if current > 0 else max(c.half_saturation * (1 - c.decay) * 2, 1e-6)
        # Marginal ROI of a Hill curve with shape < 1 is unbounded at zero: start a bit above.
        grid = np.linspace(top * 0.02, top, 80)
        rev_ax, roi_ax = axes[0][col], axes[1][col]
        rev_ax.plot(grid, c.steady_state_revenue(grid), color="tab:green")
        roi_ax.plot(grid, c.marginal_roi(grid), color="tab:purple")
        if fr.samples:
            revs = np.vstack([s.steady_state_revenue(grid) for s in fr.samples])
            rois = np.vstack([s.marginal_roi(grid) for s in fr.samples])
            for ax, d, color in ((rev_ax, revs, "tab:green"), (roi_ax, rois, "tab:purple")):
                ax.fill_between(
                    grid, np.quantile(d, q, 0), np.quantile(d, 1 - q, 0), alpha=0.25, color=color
                )
        if current > 0:
            rev_ax.plot([current], c.steady_state_revenue(current), "ko", ms=4)
            roi_ax.plot([current], c.marginal_roi(current), "ko", ms=4)
        roi_ax.axhline(1.0, color="grey", ls="--", lw=0.8)
        if current > 0:
            roi_ax.set_ylim(0, max(2.0, 3 * float(c.marginal_roi(current))))
        rev_ax.set_title(f"{ch}: revenue / day", fontsize=9)
        roi_ax.set_title(f"{ch}: marginal ROI", fontsize=9)
        roi_ax.set_xlabel("spend / day (EUR)", fontsize=8)
        for ax in (rev_ax, roi_ax):
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def plot_response_fit(kpis: pd.DataFrame, responses: dict, index: pd.DataFrame, days: int = 120):
    """Measured conversions per paid channel against what its curve explains (last days)."""
    idx = index.assign(date_day=pd.to_datetime(index["date_day"]).dt.date).set_index("date_day")
    fig, axes = _grid(len(responses))
    for ax, (ch, fr) in zip(axes, sorted(responses.items()), strict=False):
        h = kpis[kpis["channel"] == ch].copy()
        h["date_day"] = pd.to_datetime(h["date_day"]).dt.date
        h = h[h["date_day"].isin(idx.index)].sort_values("date_day")
        ix = idx.loc[h["date_day"], "index"].to_numpy(float)
        spend = h["spend"].to_numpy(float)
        fitted = fr.curve.conversions(spend, ix)
        tail = slice(max(len(h) - days, 0), None)
        d = pd.to_datetime(h["date_day"]).to_numpy()[tail]
        ax.plot(d, h["conversions"].to_numpy()[tail], color="black", lw=0.8)
        ax.plot(d, fitted[tail], color="tab:orange", lw=1.2)
        r2 = fr.fit_quality.get("r2")
        ax.set_title(f"{ch} (R² {r2:.2f})" if r2 is not None else ch, fontsize=9)
        ax.tick_params(labelsize=7)
        for label in ax.get_xticklabels():
            label.set_rotation(30)
    fig.suptitle("measured conversions (black) and the response model (orange)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def plot_backtest(backtests: pd.DataFrame) -> bytes:
    """MASE per series and model (bars) against seasonal naive; the dashed line is 1."""
    bt = backtests.copy()
    bt["series"] = (
        bt["channel"].fillna("audience:" + bt["audience_id"].fillna("")) + " " + bt["metric"]
    )
    table = bt.pivot_table(index="series", columns="model", values="mase", aggfunc="first")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.28 * len(table))))
    table.sort_index(ascending=False).plot.barh(ax=ax, width=0.8)
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("MASE (lower is better; seasonal naive in-sample = 1)", fontsize=8)
    ax.set_ylabel("")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _png(fig)
