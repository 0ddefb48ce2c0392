"""Data-driven attribution maths on examples small enough to check on paper."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.measurement.attribution import (
    WEIGHT_COLUMNS,
    PathCount,
    data_driven_weights,
    markov_removal_effects,
    markov_shares,
    removal_effects_as_of,
    shapley_shares,
    shapley_values,
)

D0 = date(2026, 3, 1)


def test_markov_removal_effect_by_hand() -> None:
    """start->c1 (2), start->c2 (1); c1->c2, c1->null; c2->c3 (2); c3->conv, c3->null.
    P(conv) = 2/3*1/2*1*1/2 + 1/3*1*1/2 = 1/3. Without c1 only the c2 path is left: 1/6, so
    c1's removal effect is 1/2; c2 and c3 are on every converting path: 1."""
    paths = [
        PathCount(("c1", "c2", "c3"), 1, 1),
        PathCount(("c1",), 1, 0),
        PathCount(("c2", "c3"), 1, 0),
    ]
    effects = markov_removal_effects(paths)
    assert effects == pytest.approx({"c1": 0.5, "c2": 1.0, "c3": 1.0})


def test_markov_without_conversions_gives_nothing() -> None:
    """No converting path: every removal effect is 0 (and the shares fall back to equal)."""
    effects = markov_removal_effects([PathCount(("a", "b"), 5, 0)])
    assert effects == {"a": 0.0, "b": 0.0}
    assert markov_shares(["a", "b"], effects) == {"a": 0.5, "b": 0.5}


def test_markov_channel_that_never_converts_gets_little() -> None:
    """display is seen on as many journeys as search, but only search journeys convert."""
    effects = markov_removal_effects(
        [PathCount(("search",), 100, 40), PathCount(("display",), 100, 0)]
    )
    assert effects["search"] == pytest.approx(1.0) and effects["display"] == pytest.approx(0.0)
    assert markov_shares(["display", "search"], effects) == pytest.approx(
        {"display": 0.0, "search": 1.0}
    )


@pytest.mark.parametrize(
    ("worth", "expected"),
    [
        # Two players: phi_a = 1/2 v(a) + 1/2 (v(ab) - v(b)).
        ({"a": 0.1, "b": 0.2, "ab": 0.5}, {"a": 0.2, "b": 0.3}),
        # Symmetric players share equally.
        ({"a": 0.3, "b": 0.3, "ab": 0.9}, {"a": 0.45, "b": 0.45}),
        # A player adding nothing gets nothing.
        ({"a": 0.4, "ab": 0.4}, {"a": 0.4, "b": 0.0}),
    ],
)
def test_shapley_values_by_hand(worth: dict[str, float], expected: dict[str, float]) -> None:
    game = {frozenset(k): v for k, v in worth.items()}
    assert shapley_values(["a", "b"], game) == pytest.approx(expected)


def test_shapley_values_are_efficient_for_three_players() -> None:
    """Efficiency: the values add up to the worth of the grand coalition."""
    rng = np.random.default_rng(3)
    players = ["a", "b", "c"]
    game = {frozenset(s): float(rng.uniform()) for s in ("a", "b", "c", "ab", "ac", "bc", "abc")}
    values = shapley_values(players, game)
    assert sum(values.values()) == pytest.approx(game[frozenset("abc")])


def test_shapley_shares_clip_negative_values() -> None:
    """b lowers the conversion rate of a's journeys: its value is negative, its share 0."""
    rates = {frozenset("a"): 0.5, frozenset("b"): 0.0, frozenset("ab"): 0.2}
    values = shapley_values(["a", "b"], rates)
    assert values["b"] < 0
    assert shapley_shares(["a", "b"], rates) == {"a": 1.0, "b": 0.0}


def _counts(rows: list[tuple[date, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date_day", "path", "journeys", "conversions"])


def test_weights_cover_each_converting_set_and_sum_to_one() -> None:
    counts = _counts(
        [
            (D0, "display > paid_search", 10, 5),
            (D0, "paid_search", 20, 4),
            (D0, "display", 30, 0),
            (D0 + timedelta(days=1), "email", 4, 1),
            (D0 + timedelta(days=1), "display", 3, 0),
        ]
    )
    weights = data_driven_weights(counts, [D0, D0 + timedelta(days=1)], training_days=2)
    assert list(weights.columns) == WEIGHT_COLUMNS
    sets = weights.groupby(["date_day", "channel_set"])[["markov", "shapley"]].sum()
    assert sets.index.tolist() == [
        (D0, "display|paid_search"),
        (D0, "paid_search"),
        (D0 + timedelta(days=1), "email"),
    ]
    assert np.allclose(sets.to_numpy(), 1.0)
    # Day 1 is trained on days 0 and 1 (two-day window): 67 journeys.
    assert set(weights.loc[weights["date_day"] == D0 + timedelta(days=1), "training_journeys"]) == {
        67
    }


def test_sliding_window_equals_fitting_each_day_alone() -> None:
    """The sliding training window gives, day by day, what a fresh fit on that day's window
    gives: a day's weights depend on its own window only (so incremental = full build)."""
    rng = np.random.default_rng(11)
    channels = ["display", "email", "paid_search", "paid_social"]
    rows = []
    for i in range(40):
        day = D0 + timedelta(days=i)
        for _ in range(12):
            path = " > ".join(rng.choice(channels, size=int(rng.integers(1, 4))))
            journeys = int(rng.integers(1, 6))
            rows.append((day, path, journeys, int(rng.integers(0, journeys + 1))))
    counts = _counts(rows)
    days = [D0 + timedelta(days=i) for i in range(20, 40)]
    together = data_driven_weights(counts, days, training_days=7)
    alone = pd.concat(
        [data_driven_weights(counts, [day], training_days=7) for day in days], ignore_index=True
    )
    pd.testing.assert_frame_equal(together, alone)


def test_old_days_leave_the_training_window() -> None:
    """What happened before the window does not count: on day 10 with a 5-day window only
    the email journeys of days 6-10 are seen, so email alone explains the conversion."""
    counts = _counts(
        [
            (D0, "display > email", 50, 50),  # day 0: display looked essential
            (D0 + timedelta(days=8), "email", 10, 5),
            (D0 + timedelta(days=10), "display > email", 1, 1),
            (D0 + timedelta(days=9), "display", 10, 0),
        ]
    )
    weights = data_driven_weights(counts, [D0 + timedelta(days=10)], training_days=5)
    shares = weights.set_index("channel")
    assert shares.loc["email", "markov"] > shares.loc["display", "markov"]
    assert shares.loc["email", "markov"] + shares.loc["display", "markov"] == pytest.approx(1.0)


def test_no_days_or_no_data_gives_an_empty_frame() -> None:
    assert data_driven_weights(_counts([]), [D0], 30).empty
    assert data_driven_weights(_counts([(D0, "email", 1, 1)]), [], 30).empty
    with pytest.raises(ValueError, match="training_days"):
        data_driven_weights(_counts([(D0, "email", 1, 1)]), [D0], 0)


def test_removal_effects_as_of_a_day_use_its_window() -> None:
    """The effects reported for a day come from that day's training window only."""
    counts = _counts(
        [
            (D0, "display", 10, 10),  # outside a 3-day window ending on day 5
            (D0 + timedelta(days=4), "email", 10, 5),
            (D0 + timedelta(days=5), "display", 10, 0),
        ]
    )
    effects = removal_effects_as_of(counts, D0 + timedelta(days=5), training_days=3)
    assert effects == pytest.approx({"display": 0.0, "email": 1.0})
    assert removal_effects_as_of(_counts([]), D0, 3) == {}
