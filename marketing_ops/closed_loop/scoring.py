"""Scoring on the simulator's ground truth (the product never reads it): the agent's spend
path, a static baseline that keeps every campaign at its last-week level, and an oracle that
knows the true curves and splits the same budget, all on the same true expected revenue so
noise cannot decide the comparison."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketing_ops.closed_loop.config import PAID, PERIOD_DAYS
from marketing_ops.config import DataHome

__all__ = ["market_revenue", "oracle_path", "path_revenue", "score_policies"]


def path_revenue(world, spend: dict[str, np.ndarray], start: date, initial: dict[str, float]):
    """True expected conversions' revenue per channel and day for a spend path, carrying the
    adstock from ``initial`` (the simulator's own arithmetic, without the Poisson noise)."""
    out = {}
    for channel, path in spend.items():
        days = [start + timedelta(days=i) for i in range(len(path))]
        carry = float(initial.get(channel, 0.0))
        conversions = world.conversions_path(channel, path, days, carry)
        out[channel] = conversions * world.curves[channel].value_per_conversion
    return out


def market_revenue(truth, window: list[str]) -> dict[str, np.ndarray]:
    """True expected conversions' revenue per paid channel and day as the market drew them
    (the truth rows). In a market with geos a geo test moved spend in some regions only, and
    each region answers on its own carry-over: the national curve cannot score that path, the
    market's own sum over the regions does."""
    d = truth.daily
    out = {}
    for c in PAID:
        rows = d[(d["channel"] == c) & d["date"].isin(window)].sort_values("date")
        value = truth.world.curves[c].value_per_conversion
        out[c] = rows["expected_conversions"].to_numpy(float) * value
    return out


def _best_split(world, total: float, n: int, day0: date, carry: dict[str, float]) -> np.ndarray:
    """The shares of ``total`` over the paid channels that maximise true revenue over ``n``
    days from ``day0`` (SLSQP from three starting points)."""
    from scipy.optimize import minimize

    def neg(x):
        spend = {c: np.full(n, x[i] * total / n) for i, c in enumerate(PAID)}
        rev = path_revenue(world, spend, day0, carry)
        return -sum(r.sum() for r in rev.values()) / total

    best = None
    for x0 in (np.full(3, 1 / 3), np.array([0.6, 0.2, 0.2]), np.array([0.2, 0.2, 0.6])):
        res = minimize(
            neg,
            x0,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * 3,
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
        )
        if best is None or res.fun < best.fun:
            best = res
    return best.x


def oracle_path(world, totals: list[float], start: date, initial: dict[str, float], days: int):
    """Period by period, the split of each period's total that maximises true revenue over
    the period, carrying the oracle's own adstock forward."""
    carry = dict(initial)
    paths = {c: np.zeros(days) for c in PAID}
    for p, total in enumerate(totals):
        first = p * PERIOD_DAYS
        n = min(PERIOD_DAYS, days - first)
        if n <= 0 or total <= 0:
            continue
        day0 = start + timedelta(days=first)
        shares = _best_split(world, total, n, day0, carry)
        period = [day0 + timedelta(days=k) for k in range(n)]
        for i, c in enumerate(PAID):
            daily = shares[i] * total / n
            paths[c][first : first + n] = daily
            carry[c] = world.adstock_after(c, np.full(n, daily), period, float(carry.get(c, 0.0)))
    return paths


def _spend_paths(d: pd.DataFrame, start: date, days: int):
    """The agent's realised spend per paid channel and the static baseline's."""
    before = d[d["date"] < start.isoformat()]
    initial = {c: float(before.loc[before["channel"] == c, "adstock"].iloc[-1]) for c in PAID}
    last_week = {
        c: float(before.loc[before["channel"] == c, "spend"].tail(PERIOD_DAYS).mean()) for c in PAID
    }
    window = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    agent = {
        c: d[(d["channel"] == c) & d["date"].isin(window)]
        .sort_values("date")["spend"]
        .to_numpy(float)
        for c in PAID
    }
    static = {c: np.full(days, last_week[c]) for c in PAID}
    return initial, agent, static, window


def score_policies(home: DataHome, start: date, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agent vs static baseline vs oracle on true expected revenue of paid media (the agent's,
    in a market with geos, as the market drew it: :func:`market_revenue`)."""
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(home)
    d = truth.daily
    initial, agent, static, window = _spend_paths(d, start, days)
    totals = [
        sum(static[c][p : p + PERIOD_DAYS].sum() for c in PAID) for p in range(0, days, PERIOD_DAYS)
    ]
    oracle = oracle_path(truth.world, totals, start, initial, days)
    rows, spend_rows = [], []
    for name, path in (
        ("agent", agent),
        ("static campaign-by-campaign", static),
        ("oracle", oracle),
    ):
        rev = path_revenue(truth.world, path, start, initial)
        if name == "agent" and truth.world.geo_shares:
            rev = market_revenue(truth, window)
        spend = sum(float(p.sum()) for p in path.values())
        revenue = sum(float(r.sum()) for r in rev.values())
        rows.append({"policy": name, "spend": spend, "revenue": revenue, "profit": revenue - spend})
        spend_rows.append({"policy": name, **{c: float(path[c].sum()) for c in PAID}})
    frame = pd.DataFrame(rows)
    base = float(frame.loc[frame["policy"].str.startswith("static"), "profit"].iloc[0])
    frame["vs_static"] = frame["profit"] - base
    frame["vs_static_pct"] = frame["vs_static"] / abs(base) if base else np.nan
    realised = d[d["channel"].isin(PAID) & d["date"].isin(window)]
    frame.attrs["agent_realised_profit"] = float(
        realised["revenue"].sum() - realised["spend"].sum()
    )
    return frame, pd.DataFrame(spend_rows)
