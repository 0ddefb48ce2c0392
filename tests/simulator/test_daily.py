"""The fast daily-outcome draw is the same market as the file-writing simulator: same spend,
same expected conversions per channel and day (a response shock included), realised totals
within Poisson noise, and the same ground truth to score against."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from marketing_ops.config import data_home
from marketing_ops.simulator import generate_history, hostile_world, load_ground_truth
from marketing_ops.simulator.daily import simulate_daily


def test_daily_outcomes_follow_the_same_market_as_the_files(tmp_path) -> None:
    # the default world with paid_social's response halved from day 30
    cfg = hostile_world("response_shock", seed=5, start=date(2025, 5, 1), days=60, contacts=300)
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
    # the shock is in both: paid_social's expected conversions per unit of response halve
    social = merged[merged["channel"] == "paid_social"].sort_values("date_day")
    assert social["expected_conversions_fast"].iloc[30:].mean() < 0.7 * (
        social["expected_conversions_fast"].iloc[:30].mean()
    )
    # the fast world's ground truth is the one generate_history keeps
    kept = load_ground_truth(data_home(tmp_path)).daily.sort_values(["date", "channel"])
    built = fast.ground_truth().daily.sort_values(["date", "channel"])
    assert list(built["date"]) == list(kept["date"])
    assert list(built["channel"]) == list(kept["channel"])
    for col in ("spend", "adstock", "expected_conversions"):
        assert np.allclose(built[col], kept[col]), col
