"""One small weekly geo world with a geo holdout run in it, and the same world with a geo
spend-up run instead; built once per session."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from marketing_ops.experiments import Design, geo_holdout, geo_spend_up
from marketing_ops.simulator.mmm_worlds import (
    MMMWorld,
    MMMWorldConfig,
    make_mmm_world,
    true_incremental,
    with_spend,
)

CONFIG = MMMWorldConfig(seed=6, freq="W", periods=90, channels=3, geos=6)
TEST_START, TEST_WEEKS = 78, 8


@dataclass
class GeoTest:
    before: MMMWorld
    after: MMMWorld  # the holdout ran: treated geos spent nothing on the channel
    design: Design
    true_lift: float  # KPI the held-out (spend-up: the added) spend buys inside the window

    @property
    def observed(self) -> pd.DataFrame:
        """History up to the test's end, as the agent sees it when reading it out."""
        f = self.after.frame
        return f[f["date"] <= self.design.end]


def run_holdout(world: MMMWorld, design: Design) -> tuple[MMMWorld, float]:
    """The world with ``design`` run: a holdout zeroes the treated geos' spend in its window,
    a spend-up adds each treated geo's ``added_by_geo`` evenly over it; and the true lift."""
    geos = [f"geo{i}" for i in range(world.config.geos)]
    old = world.frame[design.channel].to_numpy(float).reshape(len(geos), -1)
    new = old.copy()
    window = slice(TEST_START, TEST_START + design.periods)
    for g in design.treated:
        if design.spend_up:
            new[geos.index(g), window] += design.notes["added_by_geo"][g] / design.periods
        else:
            new[geos.index(g), window] = 0.0
    ch = world.channels[world.spend_columns.index(design.channel)]
    moved = abs(true_incremental(ch, old, "W") - true_incremental(ch, new, "W"))
    return with_spend(world, {design.channel: new}), float(moved[:, window].sum())


@pytest.fixture(scope="session")
def geo_test() -> GeoTest:
    world = make_mmm_world(CONFIG)
    channel = "search"  # spends every week (tv is flighted) and moves the KPI most in this world
    start = pd.Timestamp(sorted(world.frame["date"].unique())[TEST_START])
    design = geo_holdout(world.frame, channel, "revenue", start, TEST_WEEKS)
    after, truth = run_holdout(world, design)
    return GeoTest(world, after, design, truth)


@pytest.fixture(scope="session")
def spend_up_test(geo_test) -> GeoTest:
    """The same world and channel with a geo spend-up instead: treated geos spend double."""
    world, channel = geo_test.before, geo_test.design.channel
    design = geo_spend_up(
        world.frame, channel, "revenue", geo_test.design.start, TEST_WEEKS, raise_share=1.0
    )
    after, truth = run_holdout(world, design)
    return GeoTest(world, after, design, truth)
