"""Drift and the off-ramp on simulated worlds: a planted price shock trips it, a stable
world does not; the off-ramp drops only the affected scope and only a person lifts it."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.decisioning import apply_offramp, ensure_default_policies, scoped_autonomy
from marketing_ops.measurement import drift_report, population_stability_index
from marketing_ops.measurement.drift import response_breaks
from marketing_ops.simulator import (
    ResponseShock,
    Shock,
    WorldConfig,
    generate_history,
    load_ground_truth,
)
from marketing_ops.simulator.world import Hostility

START = date(2025, 1, 6)
DAYS = 150
AS_OF = START + timedelta(days=DAYS - 1)


def _daily_kpis(root, shock: Shock | None, hostility: Hostility | None = None) -> pd.DataFrame:
    """150 days of a small world; the simulator's per-channel daily spend, conversions and
    revenue stand in for `fct_channel_kpis_daily` (same columns, no dbt run needed)."""
    home = data_home(root).ensure()
    cfg = WorldConfig(
        seed=7,
        start=START,
        days=DAYS,
        contacts=60,
        traffic_scale=0.002,
        shock=shock,
        hostility=hostility,
    )
    generate_history(home, cfg)
    return load_ground_truth(home).daily.rename(columns={"date": "date_day"})


@pytest.fixture(scope="module")
def stable(tmp_path_factory) -> pd.DataFrame:
    return _daily_kpis(tmp_path_factory.mktemp("stable"), None)


@pytest.fixture(scope="module")
def shocked(tmp_path_factory) -> pd.DataFrame:
    # paid search costs double from day 125: the last 25 days buy half the media per euro
    return _daily_kpis(tmp_path_factory.mktemp("shock"), Shock("paid_search", day=125))


@pytest.fixture(scope="module")
def halved(tmp_path_factory) -> pd.DataFrame:
    # paid social's response halves from day 110: the same spend buys half the conversions
    shock = ResponseShock("paid_social", day=110, factor=0.5)
    return _daily_kpis(tmp_path_factory.mktemp("halved"), None, Hostility(response_shock=shock))


@pytest.fixture
def home(tmp_path):
    h = data_home(tmp_path / "home").ensure()
    ensure_default_policies(h.policies)
    return h


def test_stable_world_stays_quiet(stable, home) -> None:
    """No finding crosses on a world without a shock, so no scope loses autonomy."""
    report = drift_report(stable, AS_OF)
    assert len(report.findings) >= 10
    assert not report.drifted, report.summary()
    assert apply_offramp(home, report.crossed) == {} and scoped_autonomy(home) == {}


def test_price_shock_trips_the_offramp_for_its_channel(shocked, home) -> None:
    """The doubled cost shows as paid search's efficiency against its response model
    collapsing; the off-ramp drops paid search to recommend-only and leaves display and
    paid social alone."""
    report = drift_report(shocked, AS_OF)
    assert "channel:paid_search" in report.crossed, report.summary()
    assert not {"channel:display", "channel:paid_social"} & set(report.crossed)
    row = report.findings.set_index(["scope", "signal"]).loc[
        ("channel:paid_search", "efficiency_vs_response_model")
    ]
    assert row["relative_change"] < -0.25 and row["psi"] > 0.25 and row["ks_p"] < 0.01
    dropped = apply_offramp(home, report.crossed)
    assert dropped["channel:paid_search"].level == "recommend_only"
    assert "response model" in scoped_autonomy(home)["channel:paid_search"].reason
    assert scoped_autonomy(home)["channel:paid_search"].set_by == "drift off-ramp"


def test_the_shock_is_not_seen_before_it_happens(shocked) -> None:
    """The same world judged the day before the shock is quiet: the alarm is the shock."""
    assert not drift_report(shocked, START + timedelta(days=124)).drifted


@pytest.mark.parametrize(
    ("shift", "expect_large"), [(0.0, False), (0.5, False), (2.0, True), (4.0, True)]
)
def test_psi_grows_with_the_shift(shift, expect_large) -> None:
    """PSI of a normal sample against itself shifted by `shift` standard deviations."""
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 2000)
    psi = population_stability_index(ref, rng.normal(shift, 1, 2000))
    assert (psi > 0.25) is expect_large


def test_drift_sensor_requests_a_refit_only_when_the_offramp_fired(dbt_manifest) -> None:
    """One sensor tick per drift materialisation: a crossed report asks for the forecasts
    of that day to be re-fitted, tagged with why; a quiet one asks for nothing."""
    import dagster as dg

    from marketing_ops.defs.learning.sensors import DRIFT, REASON_TAG, drift_offramp_sensor
    from marketing_ops.runner import load_definitions

    repo = load_definitions()

    with dg.instance_for_test() as instance:
        for day, scopes in (("2026-11-20", ""), ("2026-11-21", "channel:paid_search")):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    asset_key=DRIFT, partition=day, metadata={"offramp_scopes": scopes}
                )
            )
        ctx = dg.build_sensor_context(instance=instance, definitions=repo)
        result = drift_offramp_sensor.evaluate_tick(ctx)
    requests = result.run_requests or []
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    assert "channel:paid_search" in requests[0].tags[REASON_TAG]


def test_a_response_break_is_found_on_its_day(halved, stable) -> None:
    """Paid social's response halves on day 110: the break is found in paid social alone,
    dated within three days of the shock, about -50 %; the day before the shock, and in the
    stable world, no channel has one."""
    breaks = response_breaks(halved, AS_OF)
    assert set(breaks) == {"paid_social"}, breaks
    brk = breaks["paid_social"]
    assert abs((brk.day - (START + timedelta(days=110))).days) <= 3, brk
    assert -0.65 < brk.change < -0.35 and brk.p_value < 1e-6
    assert str(brk.day) in brk.detail
    assert response_breaks(halved, START + timedelta(days=109)) == {}
    assert response_breaks(stable, AS_OF) == {}


def test_the_agents_own_test_is_not_drift_or_a_break(halved) -> None:
    """A geo holdout lowers a channel's national conversions more than the national curve
    expects of the lower spend, as a response drop would. Paid social's conversions halve
    from day 110 here; told that a test of the agent's moved paid social's spend on those
    days (``executed_test_spend``'s frame), neither the drift report nor the break finder
    takes them as evidence, while the other channels are judged as before."""
    days = [START + timedelta(days=d) for d in range(110, DAYS)]
    tests = pd.DataFrame({"date_day": days, "channel": "paid_social", "amount": -100.0})
    three_weeks_in = START + timedelta(days=130)
    assert "channel:paid_social" in drift_report(halved, three_weeks_in).crossed
    report = drift_report(halved, three_weeks_in, tests=tests)
    assert "channel:paid_social" not in report.crossed, report.summary()
    assert response_breaks(halved, AS_OF, tests=tests) == {}
    other = tests.assign(channel="display")  # a test of another channel changes nothing here
    assert set(response_breaks(halved, AS_OF, tests=other)) == {"paid_social"}
