"""The market runs the agent's executed spend pulses as the ad platform receives them: a
holdout pulse spends nothing in its off flights and the plan in its on ones, a spend-up adds
its amount over its on flights, and outside its window the plan holds (what `simulate-loop`
needs for the agent's own tests to move the KPI it later reads them on)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.decisioning import ensure_default_policies, load_policies
from marketing_ops.experiments import spend_pulse, spend_up_pulse
from marketing_ops.experiments.governance import Proposal, experiment_actions
from marketing_ops.experiments.value import InformationValue
from marketing_ops.simulator import WorldConfig, generate_history, load_ground_truth
from marketing_ops.simulator.market import simulate_outcomes, spend_pulses

START = date(2025, 3, 1)
DAYS, WEEKS = 30, 4
TEST_START = START + timedelta(days=DAYS)
PER_DAY = 1000.0  # the plan: 7,000 EUR a week on each channel


def _history() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    dates = pd.date_range(START, periods=DAYS, freq="D")
    return (
        pd.Series(200 + rng.normal(0, 5, DAYS), index=dates),
        pd.Series(np.full(DAYS, PER_DAY), index=dates),
    )


def _executed(home) -> pd.DataFrame:
    """Budget rows for five weeks on both channels, a holdout pulse on paid search and a
    spend-up pulse on display, as the decision batch writes them, executed."""
    kpi, spend = _history()
    start = pd.Timestamp(TEST_START)
    holdout = spend_pulse(kpi, spend, "paid_search", start, WEEKS * 7, 7, "D")
    up = spend_up_pulse(kpi, spend, "display", start, WEEKS * 7, 7, "D")
    proposals = [
        Proposal(d, InformationValue(d.channel, 1.0, 1.0, 0.0, 10.0, 1.0)) for d in (holdout, up)
    ]
    tests = experiment_actions(
        proposals, "B-1", load_policies(home.policies), pd.Timestamp(TEST_START), 91
    )
    budget = pd.DataFrame(
        [
            {
                "decision_id": f"D-{c}-{w}",
                "action_type": "budget_allocation",
                "channel": c,
                "scheduled_for": (TEST_START + timedelta(days=7 * w)).isoformat(),
                "amount": 7 * PER_DAY,
            }
            for c in ("paid_search", "display")
            for w in range(WEEKS + 1)
        ]
    )
    return pd.concat([budget, tests.assign(status="executed")], ignore_index=True)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = data_home(tmp_path_factory.mktemp("pulses")).ensure()
    ensure_default_policies(home.policies)
    generate_history(home, WorldConfig(seed=7, start=START, days=DAYS, contacts=200))
    executed = _executed(home)
    simulate_outcomes(home, executed, TEST_START, WEEKS * 7 + 3)
    truth = load_ground_truth(home).daily
    window = truth[truth["date"] >= TEST_START.isoformat()]
    return executed, window.pivot(index="date", columns="channel", values="spend")


def test_a_holdout_pulse_stops_the_plan_in_its_off_flights_only(ran) -> None:
    executed, spend = ran
    search = spend["paid_search"].to_numpy()
    off = np.array([(i // 7) % 2 == 0 for i in range(WEEKS * 7)])  # flights start off
    assert np.all(search[: WEEKS * 7][off] == 0.0)
    assert search[: WEEKS * 7][~off] == pytest.approx(np.full((~off).sum(), PER_DAY))
    assert search[WEEKS * 7 :] == pytest.approx(np.full(3, PER_DAY))  # the plan after it


def test_a_spend_up_pulse_adds_its_amount_over_its_on_flights(ran) -> None:
    executed, spend = ran
    (up,) = executed[(executed["action_type"] == "incrementality_test")].query(
        "channel == 'display'"
    )["amount"]
    display = spend["display"].to_numpy()
    on = np.array([(i // 7) % 2 == 1 for i in range(WEEKS * 7)])
    assert display[: WEEKS * 7][~on] == pytest.approx(np.full((~on).sum(), PER_DAY))
    assert display[: WEEKS * 7][on].sum() - PER_DAY * on.sum() == pytest.approx(up)
    assert up > 0
    assert display[WEEKS * 7 :] == pytest.approx(np.full(3, PER_DAY))


def test_only_pulses_reach_the_market_and_channels_without_one_keep_the_plan(ran) -> None:
    executed, spend = ran
    pulses = spend_pulses(executed)
    assert sorted(p.channel for p in pulses) == ["display", "paid_search"]
    # a daily model's pulse: one period a day, flights of a week
    assert all(p.period_days == 1 and len(p.schedule) == WEEKS * 7 for p in pulses)
    assert spend_pulses(executed[executed["action_type"] == "budget_allocation"]) == []
    # a test row delivered twice is one test: a spend-up adds its amount once
    assert spend_pulses(pd.concat([executed, executed])) == pulses
    # paid social had no budget row: it carries the history's last spend, untouched
    social = spend["paid_social"].to_numpy()
    assert np.all(social == social[0]) and social[0] > 0
