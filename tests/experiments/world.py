"""Helpers the experiment tests share (a module, not the conftest: conftests are not imported)."""

from __future__ import annotations

import pandas as pd


def national(frame: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    """The geo frame summed to one row per date, as a national model sees it."""
    return frame.groupby("date", as_index=False)[["revenue", *channels, "price", "promo"]].sum()


def known_fit(frame: pd.DataFrame, channels: list[str], roi: list[float], shape: float = 1.0):
    """A national media mix model whose posterior is known: the product's :class:`MMMFit` on
    the frame's history with ``len(roi)`` draws, one ROI each (decay 0.3, half-saturation at
    the mean spend, Hill ``shape`` — 1 is a concave curve), so prices are exact."""
    import numpy as np

    from marketing_ops.forecasting.mmm import mmm_data
    from marketing_ops.forecasting.mmm.diagnostics import FitDiagnostics
    from marketing_ops.forecasting.mmm.fit import MMMFit
    from marketing_ops.forecasting.mmm.model import Priors, model_inputs

    data = mmm_data(national(frame, channels), "revenue", channels, "W", ["price", "promo"])
    priors = Priors()
    n, c = len(roi), len(channels)
    samples = {
        "decay": np.full((n, c), 0.3),
        "half_saturation": np.ones((n, c)),
        "shape": np.full((n, c), shape),
        "roi": np.repeat(np.asarray(roi, float)[:, None], c, axis=1),
    }
    return MMMFit(
        data, model_inputs(data, priors), priors, samples, FitDiagnostics(1.0, 1e3, 0, n, 1), 0.0
    )
