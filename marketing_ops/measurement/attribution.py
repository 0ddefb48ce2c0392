"""Data-driven multi-touch attribution: Markov-chain removal effects and Shapley values.

The rule-based methods (first touch, last touch, linear, time decay, position-based) are SQL
in dbt (``int_journeys__touchpoints``). The two data-driven ones need a model fitted on
journeys with *and* without a conversion, so they live here, as pure functions over path
counts (``int_journeys__path_counts``: per day, path and channel set, how many journeys took
it and how many converted).

Both produce, per day and per *channel set* (the distinct channels of a converting journey),
the share of one conversion each channel of the set gets. Shares of a set sum to 1, so every
conversion is credited exactly once and the attribution mart's columns sum to the day's
conversions. The model for day D is fitted on the journeys that ended in the
``training_days`` up to and including D: a day's weights depend only on data up to that day,
so building day by day gives the same weights as one full build.

- **Markov removal effect** (Anderl et al. 2016; the ChannelAttribution package): a
  first-order Markov chain over ``start -> channels -> conversion | null``; the removal effect
  of a channel is the relative drop in the probability of reaching conversion from start
  when every transition into that channel goes to null instead. A conversion is split over
  the channels of its journey in proportion to their removal effects.
- **Shapley value** (Shao and Li 2011; Dalessandro et al. 2012): a cooperative game whose
  players are the channels of the journey and whose worth ``v(S)`` is the observed
  conversion rate of journeys whose channel set is exactly ``S`` (0 if none was seen). A
  conversion is split by the channels' Shapley values, negatives clipped to 0.

When a model gives every channel of a set nothing (no training data yet), the set's
conversion is split equally, so the sums still hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import factorial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marketing_ops.warehouse import read_table, replace_handoff

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "PATH_SEPARATOR",
    "SET_SEPARATOR",
    "WEIGHT_COLUMNS",
    "PathCount",
    "WeightsRefresh",
    "data_driven_weights",
    "markov_removal_effects",
    "markov_shares",
    "refresh_data_driven_weights",
    "removal_effects_as_of",
    "shapley_shares",
    "shapley_values",
]

PATH_SEPARATOR = " > "
SET_SEPARATOR = "|"
WEIGHT_COLUMNS = ["date_day", "channel_set", "channel", "markov", "shapley", "training_journeys"]

_START, _CONVERSION, _NULL = "(start)", "(conversion)", "(null)"


@dataclass(frozen=True)
class PathCount:
    """How many journeys took one path of channels, and how many of them converted."""

    path: tuple[str, ...]
    journeys: int
    conversions: int


def _split(text: str, separator: str) -> tuple[str, ...]:
    return tuple(part for part in str(text).split(separator) if part)


# --------------------------------------------------------------------------- Markov chain
def _transition_counts(paths: Iterable[PathCount], states: Mapping[str, int]) -> np.ndarray:
    """Counts of state-to-state transitions; rows and columns follow ``states``."""
    counts = np.zeros((len(states), len(states)))
    for p in paths:
        if not p.path or p.journeys <= 0:
            continue
        chain = [states[_START], *(states[c] for c in p.path)]
        for a, b in zip(chain, chain[1:], strict=False):
            counts[a, b] += p.journeys
        counts[chain[-1], states[_CONVERSION]] += p.conversions
        counts[chain[-1], states[_NULL]] += p.journeys - p.conversions
    return counts


def _conversion_probability(counts: np.ndarray, n_transient: int, removed: int | None) -> float:
    """P(reaching conversion from start) of the chain with these transition counts.

    States ``0..n_transient-1`` are transient (start first), then conversion, then null.
    ``removed``: a transient state whose incoming transitions go to null instead.
    """
    counts = counts.copy()
    if removed is not None:
        counts[:, -1] += counts[:, removed]
        counts[:, removed] = 0.0
    totals = counts.sum(axis=1, keepdims=True)
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    q = probs[:n_transient, :n_transient]
    r = probs[:n_transient, n_transient]
    # A transient state nobody leaves (no data) is made absorbing-to-null by its zero row.
    try:
        absorbed = np.linalg.solve(np.eye(n_transient) - q, r)
    except np.linalg.LinAlgError:
        absorbed = np.linalg.lstsq(np.eye(n_transient) - q, r, rcond=None)[0]
    return float(absorbed[0])


def markov_removal_effects(paths: Iterable[PathCount]) -> dict[str, float]:
    """Removal effect of every channel seen on the paths: ``1 - P(conv | channel removed) /
    P(conv)``, in [0, 1]. All 0 when no path converted."""
    paths = [p for p in paths if p.path and p.journeys > 0]
    channels = sorted({c for p in paths for c in p.path})
    return _removal_effects(_transition_counts(paths, _states(channels)), channels)


def _states(channels: Sequence[str]) -> dict[str, int]:
    """Start, the channels, then the two absorbing states: conversion and null."""
    states = {_START: 0, **{c: i + 1 for i, c in enumerate(channels)}}
    states[_CONVERSION] = len(channels) + 1
    states[_NULL] = len(channels) + 2
    return states


def _removal_effects(counts: np.ndarray, channels: Sequence[str]) -> dict[str, float]:
    n_transient = len(channels) + 1
    base = _conversion_probability(counts, n_transient, None)
    if base <= 0:
        return dict.fromkeys(channels, 0.0)
    effects = {}
    for i, channel in enumerate(channels, start=1):
        if counts[:, i].sum() == 0:  # never reached in this window: removing it changes nothing
            effects[channel] = 0.0
            continue
        without = _conversion_probability(counts, n_transient, i)
        effects[channel] = min(max(1.0 - without / base, 0.0), 1.0)
    return effects


def markov_shares(channel_set: Sequence[str], effects: Mapping[str, float]) -> dict[str, float]:
    """One conversion split over ``channel_set`` in proportion to the removal effects."""
    raw = np.array([max(effects.get(c, 0.0), 0.0) for c in channel_set])
    return _normalised(channel_set, raw)


# --------------------------------------------------------------------------- Shapley values
def shapley_values(
    players: Sequence[str], worth: Mapping[frozenset[str], float]
) -> dict[str, float]:
    """Exact Shapley values of ``players`` for the game ``worth`` (missing coalitions and the
    empty one are worth 0). Exponential in the number of players: journeys touch few channels.
    """
    n = len(players)
    if n == 0:
        return {}
    masks = np.arange(1 << n)
    value = np.array(
        [
            worth.get(frozenset(players[i] for i in range(n) if m >> i & 1), 0.0) if m else 0.0
            for m in masks
        ]
    )
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    result = {}
    for i, player in enumerate(players):
        without = masks[(masks >> i & 1) == 0]
        result[player] = float(
            np.sum(weight[size[without]] * (value[without | (1 << i)] - value[without]))
        )
    return result


def shapley_shares(
    channel_set: Sequence[str], rates: Mapping[frozenset[str], float]
) -> dict[str, float]:
    """One conversion split over ``channel_set`` by Shapley values of the conversion-rate game
    (negative values clipped to 0)."""
    values = shapley_values(list(channel_set), rates)
    raw = np.array([max(values[c], 0.0) for c in channel_set])
    return _normalised(channel_set, raw)


def _normalised(channel_set: Sequence[str], raw: np.ndarray) -> dict[str, float]:
    total = float(raw.sum())
    if not np.isfinite(total) or total <= 0:
        return dict.fromkeys(channel_set, 1.0 / len(channel_set))
    return {c: float(v / total) for c, v in zip(channel_set, raw, strict=True)}


# --------------------------------------------------------------------------- per day
def data_driven_weights(
    path_counts: pd.DataFrame, days: Iterable[date], training_days: int
) -> pd.DataFrame:
    """Markov and Shapley shares per day and converting channel set.

    ``path_counts``: columns ``date_day``, ``path`` (channels joined by `` > ``),
    ``journeys``, ``conversions``, covering at least ``training_days - 1`` days before the
    first of ``days``. For each day D of ``days``, both models are fitted on the paths of
    ``[D - training_days + 1, D]`` and give shares for every channel set that converted on D.
    Returns :data:`WEIGHT_COLUMNS`, one row per (day, channel set, channel).
    """
    if training_days < 1:
        raise ValueError(f"training_days must be at least 1, got {training_days}")
    days = sorted(set(days))
    empty = pd.DataFrame(columns=WEIGHT_COLUMNS)
    if not days or path_counts.empty:
        return empty
    frame = path_counts.copy()
    frame["date_day"] = pd.to_datetime(frame["date_day"]).dt.date
    frame["path"] = frame["path"].map(lambda text: _split(text, PATH_SEPARATOR))
    frame = frame[frame["path"].map(len) > 0]
    channels = sorted({c for p in frame["path"] for c in p})
    states = _states(channels)
    # Per day: its transition counts (for the chain), its journeys and conversions per channel
    # set (for the game) and the channel sets that converted. The training window then slides
    # by adding the days that enter it and subtracting those that leave.
    per_day: dict[date, tuple[np.ndarray, dict[frozenset[str], np.ndarray], list]] = {}
    for day, rows_of_day in frame.groupby("date_day"):
        paths = [
            PathCount(p, int(j), int(c))
            for p, j, c in rows_of_day[["path", "journeys", "conversions"]].itertuples(index=False)
        ]
        by_set: dict[frozenset[str], np.ndarray] = {}
        for p in paths:
            key = frozenset(p.path)
            by_set[key] = by_set.get(key, np.zeros(2)) + (p.journeys, p.conversions)
        converting = sorted({frozenset(p.path) for p in paths if p.conversions > 0}, key=sorted)
        per_day[day] = (_transition_counts(paths, states), by_set, converting)

    counts = np.zeros((len(states), len(states)))
    sets: dict[frozenset[str], np.ndarray] = {}

    def shift(day: date, sign: int) -> None:
        nonlocal counts
        if day not in per_day:
            return
        day_counts, day_sets, _ = per_day[day]
        counts = counts + sign * day_counts
        for key, stats in day_sets.items():
            sets[key] = sets.get(key, np.zeros(2)) + sign * stats

    rows: list[tuple] = []
    low: date | None = None
    high: date | None = None
    for day in days:
        # Slide the training window [day - training_days + 1, day] (start afresh after a gap
        # longer than the window).
        new_low = day - timedelta(days=training_days - 1)
        if high is None or low is None or new_low > high:
            counts = np.zeros((len(states), len(states)))
            sets.clear()
            for d in _day_range(new_low, day):
                shift(d, +1)
        else:
            for d in _day_range(high + timedelta(days=1), day):
                shift(d, +1)
            for d in _day_range(low, new_low - timedelta(days=1)):
                shift(d, -1)
        low, high = new_low, day
        converting_sets = per_day[day][2] if day in per_day else []
        if not converting_sets:
            continue
        effects = _removal_effects(counts, channels)
        rates = {key: c / j for key, (j, c) in sets.items() if j > 0}
        trained = int(round(sum(j for j, _ in sets.values())))
        for channel_set in converting_sets:
            ordered = sorted(channel_set)
            markov = markov_shares(ordered, effects)
            shapley = shapley_shares(ordered, rates)
            key = SET_SEPARATOR.join(ordered)
            for channel in ordered:
                rows.append((day, key, channel, markov[channel], shapley[channel], trained))
    if not rows:
        return empty
    return pd.DataFrame(rows, columns=WEIGHT_COLUMNS)


def removal_effects_as_of(
    path_counts: pd.DataFrame, day: date, training_days: int
) -> dict[str, float]:
    """The Markov removal effects of the model fitted for ``day`` (its trailing
    ``training_days`` of path counts): what a person reading a run wants to see."""
    if path_counts.empty:
        return {}
    days = pd.to_datetime(path_counts["date_day"]).dt.date
    window = path_counts[(days > day - timedelta(days=training_days)) & (days <= day)]
    return markov_removal_effects(
        PathCount(_split(p, PATH_SEPARATOR), int(j), int(c))
        for p, j, c in window[["path", "journeys", "conversions"]].itertuples(index=False)
    )


@dataclass(frozen=True)
class WeightsRefresh:
    """What one refresh of the weights hand-off wrote, for a person reading the run."""

    rows: int
    channel_sets: int
    last_day_effects: dict[str, float]


def refresh_data_driven_weights(
    con: duckdb.DuckDBPyConnection, start: date, end: date, training_days: int
) -> WeightsRefresh:
    """Fit the weights of days ``start``..``end`` (inclusive) on the warehouse's path counts
    (each day's trailing ``training_days``) and replace those days of the
    ``attribution.data_driven_weights`` hand-off that ``fct_attribution_daily`` reads."""
    counts = read_table(
        con,
        "intermediate.int_journeys__path_counts",
        date_column="date_day",
        start=start - timedelta(days=training_days - 1),
        end=end,
    )
    weights = data_driven_weights(counts, _day_range(start, end), training_days)
    replace_handoff(con, "attribution.data_driven_weights", weights, start, end)
    effects = removal_effects_as_of(counts, end, training_days)
    return WeightsRefresh(
        rows=len(weights),
        channel_sets=int(weights["channel_set"].nunique()) if len(weights) else 0,
        last_day_effects={k: round(v, 4) for k, v in sorted(effects.items())},
    )


def _day_range(start: date, end: date) -> Iterable[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)
