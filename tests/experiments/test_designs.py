"""Designs: matched markets, audience holdouts by salted hash, and the contamination guard."""

import pandas as pd

from marketing_ops.experiments import (
    NATIONAL,
    Design,
    audience_holdout,
    contamination,
    match_markets,
    refuse_contaminated,
)

START = pd.Timestamp("2026-01-05")


def design(name, channel, start=START, weeks=4, treated=(), control=(), holdout=()):
    end = start + pd.Timedelta(weeks=weeks) - pd.Timedelta(days=1)
    return Design(name, "geo", channel, start, end, weeks, treated, control, holdout)


def test_markets_are_paired_by_level_and_each_pair_split_by_hash():
    table = pd.DataFrame({f"g{i}": [100.0 * (i + 1)] * 10 for i in range(5)})
    pairs = match_markets(table, "salt")
    assert sorted(map(sorted, pairs)) == [["g0", "g1"], ["g2", "g3"]]  # the largest is left out
    assert pairs == match_markets(table, "salt")  # reproducible, stateless


def test_a_test_sharing_geos_with_a_running_one_is_refused_with_the_reason():
    running = [design("geo-tv", "tv", treated=("g1", "g2"), control=("g3", "g4"))]
    overlapping = design("geo-search", "search", START + pd.Timedelta(weeks=2), treated=("g3",))
    later = design("geo-search-later", "search", START + pd.Timedelta(weeks=4), treated=("g3",))
    elsewhere = design("geo-social", "social", treated=("g7",), control=("g8",))
    kept, refused = refuse_contaminated([overlapping, later, elsewhere], running)
    assert [d.name for d in kept] == ["geo-search-later", "geo-social"]
    assert refused[0][0] is overlapping
    assert "overlaps geo-tv (2026-01-05 to 2026-02-01): geos g3 in the same window" == refused[0][1]


def test_same_channel_national_pulse_and_shared_audience_overlap():
    geo = design("geo-tv", "tv", treated=("g1",), control=("g2",))
    pulse = design("pulse-video", "video", treated=(NATIONAL,))
    assert "every geo (a national pulse)" in contamination(pulse, [geo])
    assert "same channel tv" in contamination(design("geo-tv-2", "tv", treated=("g9",)), [geo])
    units = [f"c{i}" for i in range(2000)]
    a = audience_holdout(units, "email", START, 28, outcome_sd=1.0, share=0.5, salt="a")
    b = audience_holdout(units, "owned_push", START, 28, outcome_sd=1.0, share=0.5, salt="b")
    assert "audience members held out by both" in contamination(b, [a])
    assert 900 < len(a.holdout) < 1100  # the salted hash keeps the planned share


def test_kept_designs_guard_each_other_too():
    first = design("a", "tv", treated=("g1",))
    second = design("b", "search", treated=("g1",))
    kept, refused = refuse_contaminated([first, second], running=[])
    assert [d.name for d in kept] == ["a"] and refused[0][1].startswith("overlaps a ")
