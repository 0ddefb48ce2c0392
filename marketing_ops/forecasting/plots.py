"""PNG pictures for run metadata: forecast vs actuals, response and marginal ROI curves."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # headless: runs inside Dagster workers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["plot_forecast", "plot_response_curves"]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    channel: str,
    metric: str = "conversions",
    days: int = 90,
) -> bytes:
    """Last ``days`` of actuals with the forecast and its interval."""
    h = history[history["channel"] == channel].sort_values("date_day").tail(days)
    f = forecast[(forecast["channel"] == channel) & (forecast["metric"] == metric)].sort_values(
        "date_day"
    )
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(pd.to_datetime(h["date_day"]), h[metric], color="black", lw=1, label="actual")
    fd = pd.to_datetime(f["date_day"])
    ax.plot(fd, f["yhat"], color="tab:blue", label="forecast")
    ax.fill_between(
        fd,
        f["yhat_lower"].astype(float),
        f["yhat_upper"].astype(float),
        alpha=0.3,
        color="tab:blue",
        label="interval",
    )
    ax.set_title(f"{channel}: {metric}")
    ax.legend(loc="upper left")
    return _png(fig)


def plot_response_curves(responses: dict) -> bytes:
    """Steady-state daily revenue and marginal ROI per channel against daily spend."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ch, fr in responses.items():
        c = fr.curve
        grid = np.linspace(0, max(c.half_saturation * (1 - c.decay) * 3, 1.0), 100)
        a1.plot(grid, c.steady_state_revenue(grid), label=ch)
        a2.plot(grid, c.marginal_roi(grid), label=ch)
    a1.set(title="Daily revenue vs daily spend", xlabel="spend / day")
    a2.set(title="Marginal ROI", xlabel="spend / day")
    a2.axhline(1.0, color="grey", ls="--", lw=0.8)
    a1.legend()
    return _png(fig)
