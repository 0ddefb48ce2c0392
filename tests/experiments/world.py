"""Helpers the experiment tests share (a module, not the conftest: conftests are not imported)."""

from __future__ import annotations

import pandas as pd


def national(frame: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    """The geo frame summed to one row per date, as a national model sees it."""
    return frame.groupby("date", as_index=False)[["revenue", *channels, "price", "promo"]].sum()
