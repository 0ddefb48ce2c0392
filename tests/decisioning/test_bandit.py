"""Content choice: honest propensities within the exploration policy, and guards that
keep the wrong people from ever being chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from worlds.decisions import AS_OF, CANDIDATES, candidates, no_hours

from marketing_ops.decisioning import (
    ContentPolicy,
    best_send_hour,
    bounded_propensities,
    choose_content,
)
from marketing_ops.decisioning.policy import ExplorationPolicy

# The shared world's candidates plus A003, which nobody has been sent yet.
WORLD = candidates([*CANDIDATES, ("loyal_customers", "A003", "email", 800, 0, 0)])
NO_HOURS = no_hours()


@pytest.mark.parametrize("seed", [1, 2, 3, 20261123])
@pytest.mark.parametrize(("floor", "max_share"), [(0.02, 0.2), (0.05, 0.5), (0.0, 0.1)])
def test_propensities_sum_to_one_and_respect_floor_and_cap(
    seed: int, floor: float, max_share: float
) -> None:
    """Per audience: chosen + alternatives' propensities sum to 1, each >= the floor, and
    the chance of not sending the best guess is at most max_share."""
    policy = ContentPolicy(exploration=ExplorationPolicy(min_propensity=floor, max_share=max_share))
    out = choose_content(WORLD, NO_HOURS, policy, AS_OF, seed)
    assert set(out["audience_id"]) == {"loyal_customers", "new_visitors", "lapsed_customers"}
    for row in out.to_dict("records"):
        probs = [row["propensity"]] + [a["propensity"] for a in row["alternatives"]]
        assert sum(probs) == pytest.approx(1.0)
        assert min(probs) >= floor - 1e-12
        assert 1.0 - max(probs) <= max_share + 1e-12


@pytest.mark.parametrize(
    ("thompson", "floor", "max_share"),
    [
        ([0.7, 0.2, 0.1, 0.0], 0.05, 0.2),
        ([0.25, 0.25, 0.25, 0.25], 0.1, 0.3),
        ([1.0, 0.0, 0.0], 0.2, 0.2),
    ],
)
def test_bounded_propensities_by_hand(thompson, floor, max_share) -> None:
    """Floor first, then the exploration cap; the floor gives way when both cannot hold."""
    p = bounded_propensities(np.array(thompson), floor, max_share)
    k = len(thompson)
    assert p.sum() == pytest.approx(1.0)
    assert p.min() >= min(floor, max_share / (k - 1)) - 1e-12
    assert 1 - p.max() <= max_share + 1e-12
    assert np.argmax(p) == np.argmax(thompson)


def test_choice_is_reproducible_by_seed() -> None:
    """The same seed gives the same choices and propensities (an audit can replay them)."""
    a = choose_content(WORLD, NO_HOURS, ContentPolicy(), AS_OF, 7)
    b = choose_content(WORLD, NO_HOURS, ContentPolicy(), AS_OF, 7)
    pd.testing.assert_frame_equal(a.drop(columns="alternatives"), b.drop(columns="alternatives"))


def test_better_asset_is_chosen_most_often() -> None:
    """A001 (6% CTR on 2,000 sends) beats A002 (3%) for loyal customers in most seeds."""
    picks = [
        choose_content(WORLD, NO_HOURS, ContentPolicy(), AS_OF, s)
        .set_index("audience_id")
        .loc["loyal_customers", "asset_id"]
        for s in range(40)
    ]
    assert picks.count("A001") >= 28  # best guess gets >= 80% by the 0.2 exploration cap


def test_absent_audience_never_gets_an_action() -> None:
    """An audience the candidate query left out (no consent) appears in no output row."""
    out = choose_content(WORLD, NO_HOURS, ContentPolicy(), AS_OF, 1)
    assert "b2b_leads" not in set(out["audience_id"])
    assert (out["consented_size"] > 0).all()


def test_guards_drop_suppressed_audiences_and_disallowed_channels() -> None:
    """Suppressed audiences vanish; an audience with only disallowed channels is held, with reason."""
    world = pd.concat([WORLD, candidates([("b2b_leads", "A009", "paid_social", 50, 10, 1)])])
    policy = ContentPolicy(suppressed_audiences=["lapsed_customers"])
    out = choose_content(world, NO_HOURS, policy, AS_OF, 1).set_index("audience_id")
    assert "lapsed_customers" not in out.index
    assert out.loc["b2b_leads", "action"] == "hold"
    assert "allowed channel" in out.loc["b2b_leads", "reason"]
    assert (out.drop(index="b2b_leads")["channel"] == "email").all()


@pytest.mark.parametrize(
    "frame", [WORLD.iloc[0:0], candidates([("new_visitors", "A001", "email", 0, 10, 1)])]
)
def test_fallback_when_nothing_qualifies(frame: pd.DataFrame) -> None:
    """No candidate, or nobody consented: one hold row with a reason, never a send."""
    out = choose_content(frame, NO_HOURS, ContentPolicy(), AS_OF, 1)
    assert list(out["action"]) == ["hold"]
    assert out["asset_id"].isna().all() and out["reason"].iloc[0]


def test_send_hour_by_smoothed_click_rate_and_default() -> None:
    """The hour with the best smoothed click rate wins; no history means 10:00."""
    hours = pd.DataFrame(
        [
            ("loyal_customers", 8, 400, 40),
            ("loyal_customers", 10, 400, 20),
            ("loyal_customers", 21, 3, 1),
        ],
        columns=["audience_id", "hour_of_day", "opens", "clicks"],
    )
    # each hour's clicks/opens is pulled towards the audience's 61/803 by 50 pseudo-opens:
    # 08:00 = (40 + 50*61/803)/450 = 9.7%; 21:00 (1 of 3, raw 33%) = (1 + 3.8)/53 = 9.1%
    hour, reason = best_send_hour(hours, "loyal_customers", 10)
    assert hour == 8 and "9.7% at 08:00" in reason
    assert best_send_hour(hours, "new_visitors", 10) == (10, "no engagement history: default 10:00")
    out = choose_content(WORLD, hours, ContentPolicy(), AS_OF, 1).set_index("audience_id")
    assert out.loc["loyal_customers", "scheduled_for"] == f"2026-11-24T{hour:02d}:00:00"
    assert out.loc["new_visitors", "scheduled_for"] == "2026-11-24T10:00:00"
