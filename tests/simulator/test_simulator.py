"""The simulator is deterministic, writes the contract's export shapes, and its ground truth
is coherent enough to score decisions against."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date

import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.simulator import (
    Shock,
    WorldConfig,
    generate_history,
    load_ground_truth,
    simulate_outcomes,
)

START = date(2025, 3, 1)


def _world(root, **kw):
    home = data_home(root).ensure()
    cfg = WorldConfig(
        seed=kw.pop("seed", 7), start=START, days=kw.pop("days", 45), contacts=300, **kw
    )
    return home, generate_history(home, cfg)


def _hashes(home) -> dict[str, str]:
    return {
        str(p.relative_to(home.inbox)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.inbox.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return _world(tmp_path_factory.mktemp("sim"))


def test_same_seed_same_files_other_seed_other_files(tmp_path, world) -> None:
    """Same seed and dates give byte-identical files; another seed gives other files."""
    home, _ = world
    again, _ = _world(tmp_path / "again")
    other, _ = _world(tmp_path / "other", seed=8)
    assert _hashes(again) == _hashes(home)
    assert _hashes(other) != _hashes(home)


def test_files_have_the_contract_headers(world) -> None:
    """CSV headers are exactly the contract's; GA4 lines are JSON with nested fields."""
    home, summary = world
    assert summary.files >= 45 * 6  # six daily sources; contacts only on days with new contacts
    with (home.inbox / "google_ads" / f"google_ads_{START}.csv").open() as f:
        assert next(csv.reader(f))[:3] == ["Day", "Campaign ID", "Campaign"]
    lines = (
        (home.inbox / "offline_conversions" / f"offline_conversions_{START}.csv")
        .read_text()
        .splitlines()
    )
    assert lines[0].startswith("Parameters:TimeZone=")
    event = json.loads((home.inbox / "ga4" / f"ga4_{START}.jsonl").read_text().splitlines()[0])
    assert {"event_date", "event_timestamp", "event_params", "collected_traffic_source"} <= set(
        event
    )
    assert isinstance(event["event_timestamp"], int)


def test_offline_conversions_are_won_deals_with_a_gclid(world) -> None:
    """Every offline conversion's GCLID belongs to a closed-won deal (same conversion)."""
    home, _ = world
    deals = pd.concat(pd.read_csv(p, dtype=str) for p in (home.inbox / "crm_deals").glob("*.csv"))
    offline = pd.concat(
        pd.read_csv(p, skiprows=1, dtype=str)
        for p in (home.inbox / "offline_conversions").glob("*.csv")
    )
    won = set(deals.loc[deals["Deal Stage"] == "closedwon", "GCLID"].dropna())
    assert len(offline) > 0
    assert set(offline["Google Click ID"]) <= won


def test_platforms_over_count_conversions(world) -> None:
    """Ad platforms claim more conversions than the channel truly drove."""
    home, _ = world
    truth = load_ground_truth(home).daily
    ads = pd.concat(pd.read_csv(p) for p in (home.inbox / "google_ads").glob("*.csv"))
    search = ads[ads["Campaign"].str.startswith("SEARCH")]
    assert (
        search["Conversions"].sum()
        > truth.loc[truth["channel"] == "paid_search", "conversions"].sum()
    )


def test_oracle_beats_even_split(world) -> None:
    """The oracle allocation earns more true revenue than an even split of the same budget."""
    home, _ = world
    gt = load_ground_truth(home)
    budget = 21000.0
    oracle = gt.oracle_allocation(budget, 7, date(2025, 4, 15))
    even = {c: budget / 3 for c in oracle}
    assert sum(oracle.values()) == pytest.approx(budget, rel=1e-4)
    assert gt.expected_revenue(oracle, date(2025, 4, 15), 7) > gt.expected_revenue(
        even, date(2025, 4, 15), 7
    )


def test_shock_halves_efficiency(tmp_path) -> None:
    """After a cost-doubling shock the channel buys fewer conversions per euro."""
    home, _ = _world(tmp_path / "shock", days=60, shock=Shock("paid_search", day=30))
    t = load_ground_truth(home).daily
    s = t[t["channel"] == "paid_search"]
    before = s.iloc[:30]
    after = s.iloc[30:]
    assert (after["expected_conversions"].sum() / after["spend"].sum()) < (
        before["expected_conversions"].sum() / before["spend"].sum()
    )


def test_outcomes_follow_decisions_and_carry_their_ids(tmp_path) -> None:
    """simulate_outcomes continues the dates, spends what the batch says, tags decision ids."""
    home, _ = _world(tmp_path / "loop", days=30)
    start = date(2025, 3, 31)
    executed = pd.DataFrame(
        [
            {
                "decision_id": "D-1",
                "action_type": "budget_allocation",
                "channel": "paid_search",
                "audience_id": None,
                "asset_id": None,
                "scheduled_for": start.isoformat(),
                "amount": 7000.0,
            },
            {
                "decision_id": "D-2",
                "action_type": "content_selection",
                "channel": "email",
                "audience_id": "loyal_customers",
                "asset_id": "A001",
                "scheduled_for": f"{start.isoformat()}T10:00:00",
                "amount": None,
            },
        ]
    )
    simulate_outcomes(home, executed, start, 3)
    ads = pd.read_csv(home.inbox / "google_ads" / f"google_ads_{start}.csv")
    assert ads[ads["Campaign"].str.startswith("SEARCH")]["Cost"].sum() == pytest.approx(
        1000.0, rel=0.15
    )
    emails = pd.read_csv(home.inbox / "email_events" / f"email_events_{start}.csv")
    assert (emails["campaign_id"] == "D-2").any()
    ga4 = (home.inbox / "ga4" / f"ga4_{start}.jsonl").read_text()
    assert '"manual_campaign_id":"D-1"' in ga4


def test_simulated_window_follows_the_simulator_not_the_calendar(tmp_path):
    """A home knows which days were simulated (so a later `make demo` re-uses the same
    window); an empty home knows none, and continuing the world extends the window."""
    from datetime import timedelta

    from marketing_ops.simulator import simulated_window

    assert simulated_window(data_home(tmp_path / "empty").ensure()) is None
    home, _ = _world(tmp_path / "w", days=20)
    assert simulated_window(home) == (START, START + timedelta(days=19))
    simulate_outcomes(home, pd.DataFrame(), START + timedelta(days=20), 3)
    assert simulated_window(home) == (START, START + timedelta(days=22))
