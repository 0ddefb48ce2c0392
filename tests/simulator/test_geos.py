"""A market with geos (``WorldConfig.geos``): every visit and purchase has its region, the ad
platforms send geographic reports that add up to each campaign's day, the regions together
answer like the national market, and an executed geo test changes spend in its treated
regions only (what `simulate-loop` needs for the agent's matched-market tests)."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.decisioning import ensure_default_policies, load_policies
from marketing_ops.experiments import geo_holdout
from marketing_ops.experiments.governance import Proposal, experiment_actions
from marketing_ops.experiments.value import InformationValue
from marketing_ops.simulator import WorldConfig, generate_history, load_ground_truth
from marketing_ops.simulator.market import geo_changes, simulate_outcomes
from marketing_ops.simulator.world import build_world

START = date(2025, 3, 1)
DAYS, WEEKS = 28, 3
TEST_START = START + timedelta(days=DAYS)
PER_DAY = 1500.0
CONFIG = WorldConfig(seed=11, start=START, days=DAYS, contacts=200, geos=6)


def _geo_frame(regions: list[str]) -> pd.DataFrame:
    """A weekly geo history for the design (levels by region, display spend by region)."""
    rng = np.random.default_rng(0)
    dates = pd.date_range(pd.Timestamp(START) - pd.Timedelta(weeks=20), periods=20, freq="W")
    rows = [
        {
            "date": d,
            "geo": g,
            "conversions": 100 * (1 + i) + rng.normal(0, 3),
            "display": 50.0 * (1 + i),
        }
        for d in dates
        for i, g in enumerate(regions)
    ]
    return pd.DataFrame(rows)


def _executed(home, regions: list[str]) -> pd.DataFrame:
    design = geo_holdout(
        _geo_frame(regions), "display", "conversions", pd.Timestamp(TEST_START), WEEKS, "W"
    )
    proposal = Proposal(design, InformationValue("display", 1.0, 1.0, 0.0, 10.0, 1.0))
    tests = experiment_actions(
        [proposal], "B-1", load_policies(home.policies), pd.Timestamp(TEST_START), 91
    )
    budget = pd.DataFrame(
        [
            {
                "decision_id": f"D-{w}",
                "action_type": "budget_allocation",
                "channel": "display",
                "scheduled_for": (TEST_START + timedelta(days=7 * w)).isoformat(),
                "amount": 7 * PER_DAY,
            }
            for w in range(WEEKS + 1)
        ]
    )
    return pd.concat([budget, tests.assign(status="executed")], ignore_index=True)


def _read(path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = data_home(tmp_path_factory.mktemp("geos")).ensure()
    ensure_default_policies(home.policies)
    generate_history(home, CONFIG)
    regions = list(build_world(CONFIG).geo_shares)
    executed = _executed(home, regions)
    simulate_outcomes(home, executed, TEST_START, WEEKS * 7 + 2)
    return home, executed


def test_the_regions_share_the_market_and_every_purchase_has_one(ran) -> None:
    home, _ = ran
    world = build_world(CONFIG)
    assert len(world.geo_shares) == 6 and sum(world.geo_shares.values()) == pytest.approx(1.0)
    # the shares have a stream of their own: the national twin draws the same curves
    national = build_world(WorldConfig(seed=11, start=START, days=DAYS, contacts=200))
    assert national.geo_shares == {} and national.curves == world.curves
    events = [
        json.loads(line)
        for line in (home.source_inbox("ga4") / f"ga4_{START.isoformat()}.jsonl").open()
    ]
    purchases = [e for e in events if e["event_name"] == "purchase"]
    assert purchases and all(e["geo"]["region"] in world.geo_shares for e in purchases)
    assert {e["geo"]["region"] for e in events} == set(world.geo_shares)


def test_geographic_reports_add_up_to_the_campaign_and_the_plan(ran) -> None:
    home, _ = ran
    truth = load_ground_truth(home).daily
    day = START + timedelta(days=3)
    rows = _read(home.source_inbox("google_ads") / f"google_ads_{day.isoformat()}.csv")
    assert rows and all(r["Region"] for r in rows)
    for campaign in {r["Campaign ID"] for r in rows}:
        mine = [r for r in rows if r["Campaign ID"] == campaign]
        assert len({r["Region"] for r in mine}) == len(mine) == 6  # one row per region
        assert all(int(r["Clicks"]) <= int(r["Impressions"]) for r in mine)
    spend = sum(float(r["Cost"]) for r in rows)
    meta = _read(home.source_inbox("meta_ads") / f"meta_ads_{day.isoformat()}.csv")
    spend += sum(float(r["spend"]) for r in meta)
    planned = truth[(truth["date"] == day.isoformat()) & (truth["spend"] > 0)]
    planned = planned[planned["channel"] != "email"]["spend"].sum()
    assert spend == pytest.approx(planned, rel=0.1)  # each campaign's row is the plan +-10 %


def test_a_geo_holdout_stops_spend_in_its_treated_regions_only(ran) -> None:
    home, executed = ran
    (change, *others) = geo_changes(executed)
    treated = {c.geo for c in (change, *others)}
    assert 1 <= len(treated) < 6 and all(c.channel == "display" and not c.spend_up for c in others)
    world = build_world(CONFIG)
    during = change.start + timedelta(days=3)
    after = change.end + timedelta(days=1)
    rows = _read(home.source_inbox("google_ads") / f"google_ads_{during.isoformat()}.csv")
    display = {r["Region"] for r in rows if r["Campaign"].startswith("DISPLAY")}
    assert display == set(world.geo_shares) - treated  # a held-out region reports nothing
    truth = load_ground_truth(home).daily.set_index(["date", "channel"])
    share = sum(world.geo_shares[g] for g in treated)
    assert truth.loc[(during.isoformat(), "display"), "spend"] == pytest.approx(
        PER_DAY * (1 - share)
    )
    assert truth.loc[(after.isoformat(), "display"), "spend"] == pytest.approx(PER_DAY)
    # each region carries over its own adstock: after the test the held-out regions climb
    # back while the others hold the plan's level, so the national carry-over still rises
    later = after + timedelta(days=1)
    assert truth.loc[(later.isoformat(), "display"), "spend"] == pytest.approx(PER_DAY)
    assert (
        truth.loc[(after.isoformat(), "display"), "adstock"]
        < truth.loc[(later.isoformat(), "display"), "adstock"]
    )


def _scored(home, start: date, days: int):
    """The market's own revenue of the realised spend and the national curve's, per channel."""
    from marketing_ops.closed_loop.scoring import _spend_paths, market_revenue, path_revenue

    truth = load_ground_truth(home)
    initial, agent, _, window = _spend_paths(truth.daily, start, days)
    national = path_revenue(truth.world, agent, start, initial)
    return market_revenue(truth, window), national


def test_the_regions_answer_like_the_national_market_until_a_test_splits_them(ran) -> None:
    """At the plan's split the regions' responses add up to the national curve's (the loop
    may score a geo world's counterfactual paths on it); a geo holdout is the exception, so
    the loop scores the agent's path on what the market drew (``market_revenue``)."""
    home, executed = ran
    (change, *_) = geo_changes(executed)
    before, national = _scored(home, START + timedelta(days=7), 14)
    for c, revenue in before.items():
        assert revenue == pytest.approx(national[c], rel=1e-9)
    during, national = _scored(home, change.start, (change.end - change.start).days + 1)
    assert during["paid_search"] == pytest.approx(national["paid_search"], rel=1e-9)
    assert not np.allclose(during["display"], national["display"], rtol=1e-3)
