"""The fast daily-outcome draw is the same market as the file-writing simulator: same spend,
same expected conversions per channel and day, realised totals within Poisson noise."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from marketing_ops.config import data_home
from marketing_ops.simulator import WorldConfig, generate_history, load_ground_truth
from marketing_ops.simulator.daily import simulate_daily


def test_daily_outcomes_follow_the_same_market_as_the_files(tmp_path) -> None:
    cfg = WorldConfig(seed=5, start=date(2025, 5, 1), days=60, contacts=300)
    generate_history(data_home(tmp_path).ensure(), cfg)
    truth = load_ground_truth(data_home(tmp_path)).daily
    truth["date_day"] = pd.to_datetime(truth["date"]).dt.date
    fast = simulate_daily(cfg)
    merged = truth.merge(fast.kpis, on=["date_day", "channel"], suffixes=("_files", "_fast"))
    assert len(merged) == 60 * 7
    assert np.allclose(merged["spend_files"], merged["spend_fast"])
    assert np.allclose(merged["expected_conversions_files"], merged["expected_conversions_fast"])
    for channel, g in merged.groupby("channel"):
        expected = g["expected_conversions_fast"].sum()
        for col in ("conversions_files", "conversions_fast"):
            assert abs(g[col].sum() - expected) < 4 * np.sqrt(expected) + 1, (channel, col)
    audiences = fast.audiences.groupby("date_day")["conversions"].sum()
    assert (
        audiences.to_numpy() == fast.kpis.groupby("date_day")["conversions"].sum().to_numpy()
    ).all()
    assert np.allclose(
        fast.true_index(), [fast.world.index(d) for d in sorted(merged["date_day"].unique())]
    )
