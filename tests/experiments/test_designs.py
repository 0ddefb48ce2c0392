"""Designs: matched markets, audience holdouts by salted hash, and the contamination guard."""

from dataclasses import replace

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


def test_a_test_whose_tail_is_read_reserves_its_geos_until_then():
    tv = design("geo-tv", "tv", treated=("g1",), control=("g2",))
    read_on = replace(tv, readout_end=tv.end + pd.Timedelta(weeks=4))
    after = design("geo-search", "search", tv.end + pd.Timedelta(days=1), treated=("g2",))
    assert contamination(after, [tv]) == ""  # no tail read: its geos are free at its end
    assert contamination(after, [read_on]) == (
        "overlaps geo-tv (2026-01-05 to 2026-02-01, read to 2026-03-01): geos g2 in the same window"
    )
    later = replace(after, start=read_on.readout_end + pd.Timedelta(days=1))
    assert contamination(later, [read_on]) == ""
    # a new test whose own tail would run into a later test is refused the same way
    assert contamination(tv, [replace(after, readout_end=None)]) == ""
    assert "overlaps geo-search" in contamination(read_on, [after])


def test_kept_designs_guard_each_other_too():
    first = design("a", "tv", treated=("g1",))
    second = design("b", "search", treated=("g1",))
    kept, refused = refuse_contaminated([first, second], running=[])
    assert [d.name for d in kept] == ["a"] and refused[0][1].startswith("overlaps a ")


def test_a_spend_up_and_a_holdout_in_the_same_geos_contaminate_each_other():
    """A spend-up raises what a holdout's controls spend (or the other way round): sharing a
    geo in the same window is refused whichever direction each runs; a spend-up of the
    channel a holdout is running on is refused too."""
    holdout = design("geo-tv", "tv", treated=("g1", "g2"), control=("g3", "g4"))
    up = replace(
        design("up-search", "search", treated=("g4",), control=("g5",)),
        direction="spend_up",
        spend_added=1000.0,
    )
    apart = replace(up, name="up-search-apart", treated=("g6",), control=("g7",))
    same_channel = replace(apart, name="up-tv", channel="tv")
    kept, refused = refuse_contaminated([up, apart, same_channel], [holdout])
    assert [d.name for d in kept] == ["up-search-apart"]
    assert refused[0][1].endswith("geos g4 in the same window")
    assert "same channel tv" in refused[1][1]
    # the other way: a holdout proposed while a spend-up runs
    assert "geos g4" in contamination(holdout, [up])
