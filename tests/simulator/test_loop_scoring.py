"""The closed loop's scoring replays the simulator's own arithmetic: the true expected
revenue of a spend path, and an oracle that beats a static split of the same budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from marketing_ops.closed_loop import PAID, oracle_path, path_revenue
from marketing_ops.config import data_home
from marketing_ops.simulator import (
    Shock,
    WorldConfig,
    generate_history,
    hostile_world,
    load_ground_truth,
)

START = date(2025, 3, 1)


@pytest.fixture(scope="module", params=["cost shock", "all_at_once"])
def truth(tmp_path_factory, request):
    """A small world with a cost shock on display, and the hostile world with every
    pathology (its response shock on paid social included)."""
    home = data_home(tmp_path_factory.mktemp("score")).ensure()
    cfg = WorldConfig(
        seed=5,
        start=START,
        days=30,
        contacts=50,
        traffic_scale=0.001,
        shock=Shock("display", day=20),
    )
    if request.param != "cost shock":
        cfg = hostile_world(request.param, seed=5, start=START, days=30, contacts=50)
        cfg = replace(cfg, traffic_scale=0.001)
    generate_history(home, cfg)
    return load_ground_truth(home)


def test_path_revenue_matches_the_simulators_expectation(truth) -> None:
    """Replaying the history's spend from zero adstock gives the simulator's expected
    conversions times the value per conversion, day by day (cost and response shocks
    included)."""
    d = truth.daily
    spend = {c: d[d["channel"] == c].sort_values("date")["spend"].to_numpy(float) for c in PAID}
    got = path_revenue(truth.world, spend, START, {c: 0.0 for c in PAID})
    for c in PAID:
        rows = d[d["channel"] == c].sort_values("date")
        expected = (
            rows["expected_conversions"].to_numpy(float) * truth.curves[c].value_per_conversion
        )
        assert got[c] == pytest.approx(expected, rel=1e-9)


def test_oracle_beats_the_static_split_of_the_same_budget(truth) -> None:
    start = START + timedelta(days=30)
    initial = {c: float(truth.daily[truth.daily["channel"] == c]["adstock"].iloc[-1]) for c in PAID}
    static = {c: np.full(14, 900.0) for c in PAID}
    oracle = oracle_path(truth.world, [3 * 900.0 * 7, 3 * 900.0 * 7], start, initial, 14)
    assert sum(p.sum() for p in oracle.values()) == pytest.approx(3 * 900.0 * 14, rel=1e-4)

    def rev(path):
        return sum(r.sum() for r in path_revenue(truth.world, path, start, initial).values())

    assert rev(oracle) > rev(static)
