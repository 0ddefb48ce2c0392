"""ROAS per channel before and after a test's calibration, as the report shows it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from marketing_ops.experiments.report import posterior_shift, posterior_shift_markdown


def summary(rows: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"channel": c, "roas": m, "roas_lo": lo, "roas_hi": hi} for c, (m, lo, hi) in rows.items()]
    )


def test_the_tested_channel_narrows_and_the_table_says_so():
    before = summary({"search": (3.0, 1.0, 5.0), "tv": (1.0, 0.5, 1.5)})
    after = summary({"search": (1.8, 1.4, 2.2), "tv": (1.1, 0.6, 1.6)})
    shift = posterior_shift(before, after, ["search"], {"search": 1.7, "tv": 0.9})
    s = shift.set_index("channel")
    assert s.at["search", "tested"] and not s.at["tv", "tested"]
    assert s.at["search", "width_ratio"] == pytest.approx(0.8 / 4.0)
    assert s.at["tv", "width_ratio"] == pytest.approx(1.0)
    assert s.at["search", "roas_before"] == 3.0 and s.at["search", "roas_after"] == 1.8
    text = posterior_shift_markdown(shift)
    assert "| search | yes | 3.00 (1.00 to 5.00) | 1.80 (1.40 to 2.20) | x0.20 | 1.70 |" in text
    assert "true ROAS" in text.splitlines()[0]


def test_without_truth_the_table_has_no_truth_column():
    before = summary({"search": (3.0, 1.0, 5.0)})
    shift = posterior_shift(before, before)
    assert math.isnan(shift["true_roas"].iloc[0])
    assert "true ROAS" not in posterior_shift_markdown(shift)
