"""The simulator is not kind: each hostile preset shows its pathology in the files the
product reads, and the ground truth a media mix model is scored against reconciles with
them (contributions of the channels and the base add up to each day's total KPI)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.forecasting.curves import hill
from marketing_ops.simulator import (
    HOSTILE_WORLDS,
    Hostility,
    generate_history,
    hostile_worlds,
    simulate_outcomes,
)

START = date(2025, 1, 6)
DAYS = 70
CAMPAIGN_PREFIX = {"SEARCH": "paid_search", "DISPLAY": "display", "SOCIAL": "paid_social"}
LAST_CLICK = {"cpc": "paid_search", "display": "display", "paid_social": "paid_social"}


def _presets():
    return hostile_worlds(seed=5, start=START, days=DAYS, contacts=200, traffic_scale=0.005)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Build a preset's world (or ``gentle``: the same world without hostility) once."""
    built = {}

    def build(name: str):
        if name not in built:
            presets = _presets()
            cfg = (
                replace(presets["all_at_once"], hostility=None)
                if name == "gentle"
                else presets[name]
            )
            home = data_home(tmp_path_factory.mktemp(name)).ensure()
            generate_history(home, cfg)
            built[name] = home
        return built[name]

    return build


def _contributions(home) -> pd.DataFrame:
    return pd.read_csv(home.ground_truth / "channel_contributions.csv")


def _response(home) -> dict:
    return json.loads((home.ground_truth / "response.json").read_text())


def _platform_claims(home) -> pd.Series:
    """Conversions each ad platform reports, per channel, over the history."""
    google = pd.concat(pd.read_csv(p) for p in (home.inbox / "google_ads").glob("*.csv"))
    claims = google.groupby(google["Campaign"].str.split(" ").str[0])["Conversions"].sum()
    social = 0.0
    for p in (home.inbox / "meta_ads").glob("*.csv"):
        for actions in pd.read_csv(p)["actions"]:
            social += sum(
                float(a["value"]) for a in json.loads(actions) if "purchase" in a["action_type"]
            )
    claims["SOCIAL"] = social
    return claims.rename(index=CAMPAIGN_PREFIX)


def _last_click_conversions(home) -> pd.Series:
    """Converting GA4 sessions (purchases and leads) per channel of their last click."""
    mediums = []
    for p in (home.inbox / "ga4").glob("*.jsonl"):
        for line in p.read_text().splitlines():
            event = json.loads(line)
            if event["event_name"] in ("purchase", "generate_lead"):
                mediums.append(event["traffic_source"]["medium"])
    return pd.Series(mediums).map(LAST_CLICK).fillna("other").value_counts()


def test_presets_are_named_worlds_with_one_pathology_each() -> None:
    """Every preset has its hostility; the shock falls mid-history; one preset has all."""
    presets = _presets()
    assert list(presets) == list(HOSTILE_WORLDS)
    assert all(cfg.hostility is not None and cfg.days == DAYS for cfg in presets.values())
    assert presets["response_shock"].hostility.response_shock.day == DAYS // 2
    every = presets["all_at_once"].hostility
    assert every.over_claim and every.search_capture and every.decay and every.saturation


def _claimed_over_true(home) -> pd.Series:
    truth = _contributions(home).groupby("channel")["conversions"].sum()
    return _platform_claims(home) / truth.loc[list(CAMPAIGN_PREFIX.values())]


def test_platforms_over_claim_by_their_factor(world) -> None:
    """Platform-reported conversions / true incremental: each platform's own factor in the
    hostile world (> 2 for display and social), about 1.55 everywhere in the gentle twin."""
    hostile = _claimed_over_true(world("over_claiming_platforms"))
    factors = _response(world("over_claiming_platforms"))["channels"]
    for channel, ratio in hostile.items():
        assert ratio == pytest.approx(factors[channel]["platform_over_claim"], rel=0.15), channel
    assert hostile["display"] > 2.0 and hostile["paid_social"] > 2.4
    gentle = _claimed_over_true(world("gentle"))
    assert gentle.to_numpy() == pytest.approx([1.55] * 3, rel=0.15)


def test_search_takes_last_click_credit_it_did_not_earn(world) -> None:
    """Search's share of last-click conversions exceeds its true incremental share of all
    conversions by far; in the gentle twin the two agree."""
    gaps = {}
    for name in ("search_takes_last_click", "gentle"):
        home = world(name)
        truth = _contributions(home).groupby("channel")["conversions"].sum()
        true_share = truth["paid_search"] / truth.sum()
        clicks = _last_click_conversions(home)
        gaps[name] = clicks["paid_search"] / clicks.sum() - true_share
    assert gaps["search_takes_last_click"] > 0.15
    assert abs(gaps["gentle"]) < 0.03


def _go_dark(built, copy: Path, channel: str, days: int) -> pd.DataFrame:
    """Continue a copy of the world ``days`` with no spend on ``channel`` (the others as on
    its last day)."""
    shutil.copytree(built.root, copy)
    home = data_home(copy)
    first = START + timedelta(days=DAYS)
    executed = pd.DataFrame(
        [
            {
                "action_type": "budget_allocation",
                "channel": channel,
                "scheduled_for": (first + timedelta(days=k)).isoformat(),
                "amount": 0.0,
                "decision_id": f"D-dark-{k}",
                "audience_id": None,
                "asset_id": None,
            }
            for k in range(0, days, 7)
        ]
    )
    simulate_outcomes(home, executed, first, days)
    c = _contributions(home)
    return c[c["channel"] == channel].set_index("date")


def test_long_carry_over_keeps_selling_after_the_spend_stops(world, tmp_path) -> None:
    """A week after its spend stops, the long-carry-over channel still brings a third of
    its last spending day's expected conversions; the gentle twin's brings almost none."""
    kept = {}
    for name in ("long_carry_over", "gentle"):
        path = _go_dark(world(name), tmp_path / name, "paid_social", 8)
        last = (START + timedelta(days=DAYS - 1)).isoformat()
        week_on = (START + timedelta(days=DAYS + 6)).isoformat()
        assert path.loc[week_on, "spend"] == 0.0
        kept[name] = (
            path.loc[week_on, "expected_conversions"] / path.loc[last, "expected_conversions"]
        )
    assert _response(world("long_carry_over"))["channels"]["paid_social"]["decay"] == 0.9
    assert kept["long_carry_over"] > 0.3
    assert kept["gentle"] < 0.05


def _marginal_over_average(home, channel: str) -> float:
    """Marginal / average return at the channel's mean spend, from the true response."""
    p = _response(home)["channels"][channel]
    c = _contributions(home)
    spend = c.loc[c["channel"] == channel, "spend"].mean()

    def response(daily):
        return hill(np.array([daily / (1 - p["decay"])]), p["half_saturation"], p["shape"])[0]

    marginal = (response(spend * 1.01) - response(spend)) / (spend * 0.01)
    return marginal / (response(spend) / spend)


def test_the_saturated_channel_spends_far_past_half_saturation(world) -> None:
    """Steady-state adstock at the mean spend is several times the half-saturation, and the
    next euro returns a fraction of the average; not so in the gentle twin."""
    home = world("saturated_channel")
    p = _response(home)["channels"]["paid_search"]
    c = _contributions(home)
    spend = c.loc[c["channel"] == "paid_search", "spend"].mean()
    assert spend / (1 - p["decay"]) > 5 * p["half_saturation"]
    assert _marginal_over_average(home, "paid_search") < 0.2
    assert _marginal_over_average(world("gentle"), "paid_search") > 0.4


def _roas(c: pd.DataFrame, channel: str, first: date, last: date, column: str) -> float:
    rows = c[(c["channel"] == channel) & c["date"].between(first.isoformat(), last.isoformat())]
    return rows[column].sum() / rows["spend"].sum()


def test_the_shocked_channel_returns_half_after_the_shock(world) -> None:
    """The shocked channel's true ROAS over the weeks after the shock is about half of the
    weeks before, relative to the gentle twin (same spend, same days); the others keep theirs."""
    shock_day = START + timedelta(days=DAYS // 2)
    before = (shock_day - timedelta(days=28), shock_day - timedelta(days=1))
    after = (shock_day + timedelta(days=1), shock_day + timedelta(days=28))
    shocked, twin = _contributions(world("response_shock")), _contributions(world("gentle"))
    response = _response(world("response_shock"))["channels"]["paid_social"]
    assert response["shock_date"] == shock_day.isoformat() and response["shock_factor"] == 0.5
    for column, tol in (("expected_revenue", 0.01), ("revenue", 0.2)):
        change = _roas(shocked, "paid_social", *after, column) / _roas(
            shocked, "paid_social", *before, column
        )
        twin_change = _roas(twin, "paid_social", *after, column) / _roas(
            twin, "paid_social", *before, column
        )
        assert change / twin_change == pytest.approx(0.5, rel=tol), column
    assert _roas(shocked, "display", *after, "expected_revenue") == pytest.approx(
        _roas(twin, "display", *after, "expected_revenue")
    )


def _exported_kpi(home) -> pd.DataFrame:
    """Conversions and revenue per day as the exports show them: GA4 purchases plus CRM
    closed-won deals (each business conversion is exactly one of the two)."""
    rows = []
    for p in (home.inbox / "ga4").glob("*.jsonl"):
        for line in p.read_text().splitlines():
            e = json.loads(line)
            if e["event_name"] == "purchase":
                day = f"{e['event_date'][:4]}-{e['event_date'][4:6]}-{e['event_date'][6:]}"
                rows.append((day, e["ecommerce"]["purchase_revenue"]))
    for p in (home.inbox / "crm_deals").glob("*.csv"):
        deals = pd.read_csv(p)
        won = deals[deals["Deal Stage"] == "closedwon"]
        rows += [(d[:10], a) for d, a in zip(won["Close Date"], won["Amount"], strict=True)]
    frame = pd.DataFrame(rows, columns=["date", "revenue"])
    return frame.groupby("date").agg(conversions=("revenue", "size"), revenue=("revenue", "sum"))


def test_ground_truth_reconciles_with_the_exports(world) -> None:
    """Per day, the media channels' contributions plus the base add up to the total KPI in
    the exported files: conversions exactly, revenue to the cent per conversion."""
    home = world("all_at_once")
    c = _contributions(home)
    assert set(c["channel"]) == {"paid_search", "display", "paid_social", "email", "base"}
    assert (c.groupby("date").size() == 5).all() and len(c) == 5 * DAYS
    assert (c.loc[c["channel"] == "base", "spend"] == 0).all()
    truth = c.groupby("date")[["conversions", "revenue"]].sum()
    kpi = _exported_kpi(home).reindex(truth.index, fill_value=0)
    assert (truth["conversions"] == kpi["conversions"]).all()
    assert np.allclose(truth["revenue"], kpi["revenue"], atol=0.006 * truth["conversions"].max())
    spend = pd.read_csv(home.ground_truth / "daily_truth.csv").groupby("date")["spend"].sum()
    assert np.allclose(c.groupby("date")["spend"].sum(), spend)


@pytest.mark.parametrize("name", ["over_claiming_platforms", "search_takes_last_click"])
def test_mislabelling_worlds_keep_their_twins_truth(world, name) -> None:
    """Over-claiming and a skewed last click change what the tools report, not what the
    channels cause: the ground truth is the gentle twin's, to the row."""
    pd.testing.assert_frame_equal(_contributions(world(name)), _contributions(world("gentle")))


def test_a_world_without_pathologies_writes_the_gentle_files(tmp_path) -> None:
    """An empty ``Hostility`` changes nothing: the exports are the gentle world's, byte for
    byte (the hostile machinery draws nothing a gentle world would see)."""
    gentle = replace(_presets()["all_at_once"], days=8, hostility=None)
    files = {}
    for name, cfg in (("gentle", gentle), ("empty", replace(gentle, hostility=Hostility()))):
        home = data_home(tmp_path / name).ensure()
        generate_history(home, cfg)
        files[name] = {p.relative_to(home.inbox): p.read_bytes() for p in home.inbox.rglob("*.*")}
    assert len(files["gentle"]) >= 8 * 6 and files["gentle"] == files["empty"]


def test_spend_lift_is_the_true_effect_of_changing_the_spend_over_its_window(world) -> None:
    """``GroundTruth.spend_lift``, the lift a perfect test would read: with nothing changed it
    is zero; cutting everything it is the window's expected conversions less what the
    carried-in adstock alone sells (so the path it rebuilds is the one the simulator ran, shock
    included); a deeper cut loses more, and a pulse's lift is the same difference seen from
    above."""
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(world("response_shock"))
    shock_day = START + timedelta(days=DAYS // 2)
    for first in (START + timedelta(days=7), shock_day + timedelta(days=1)):
        last = first + timedelta(days=13)
        rows = truth.daily[
            (truth.daily["channel"] == "paid_social")
            & truth.daily["date"].between(first.isoformat(), last.isoformat())
        ]
        before = truth.daily[
            (truth.daily["channel"] == "paid_social")
            & (truth.daily["date"] == (first - timedelta(days=1)).isoformat())
        ]
        curve = truth.curves["paid_social"]
        days = [first + timedelta(days=i) for i in range(14)]
        carry_only = curve.conversions(
            np.zeros(14),
            np.array([truth.world.index(d) for d in days]),
            float(before["adstock"].iloc[0]),
        ) * np.array([truth.world.response_factor("paid_social", d) for d in days])
        lift = partial(truth.spend_lift, "paid_social", first, last)
        whole = lift(1.0, 0.0)
        assert lift(1.0, 1.0) == 0.0
        assert whole == pytest.approx(rows["expected_conversions"].sum() - carry_only.sum())
        assert 0 < lift(1.0, 0.7) < lift(1.0, 0.4) < whole
        assert lift(1.3, 1.0) > 0
        assert lift(1.3, 0.7) == pytest.approx(lift(1.3, 1.0) + lift(1.0, 0.7))
    with pytest.raises(ValueError, match="no paid_social days"):
        truth.spend_lift("paid_social", START - timedelta(days=30), START - timedelta(days=1), 1, 0)


def test_spend_lift_read_out_after_the_test_counts_the_carry_over(world) -> None:
    """A read-out past the test's end adds the change's carry-over: nothing when it ends with
    the test, a positive tail for the decay-0.9 channel that grows with the read-out (and is a
    larger share of the lift than for a fast-decaying channel), none at all for the same
    channel with decay 0; a read-out past the simulated days or before the end is an error."""
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(world("long_carry_over"))
    first = START + timedelta(days=14)
    last = first + timedelta(days=13)

    def tail_share(t, channel: str, high: float, low: float, days: int) -> float:
        own = t.spend_lift(channel, first, last, high, low)
        read = t.spend_lift(channel, first, last, high, low, last + timedelta(days=days))
        return (read - own) / own

    lift = partial(truth.spend_lift, "paid_social", first, last)
    assert lift(1.0, 0.7, last) == lift(1.0, 0.7)
    social = [tail_share(truth, "paid_social", 1.0, 0.7, d) for d in (7, 14, 28)]
    assert 0 < social[0] < social[1] < social[2]
    assert social[2] > 0.5  # decay 0.9: most of the in-window lift again after the test
    assert tail_share(truth, "paid_social", 1.3, 1.0, 28) > 0.5  # a pulse's tail too
    assert 0 < tail_share(truth, "paid_search", 1.0, 0.7, 28) < social[2] / 3
    curves = {**truth.world.curves}
    curves["paid_social"] = replace(curves["paid_social"], decay=0.0)
    no_carry = type(truth)(replace(truth.world, curves=curves), truth.daily)
    assert tail_share(no_carry, "paid_social", 1.0, 0.7, 28) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="past the simulated days"):
        lift(1.0, 0.7, START + timedelta(days=DAYS + 3))
    with pytest.raises(ValueError, match="before the test's end"):
        lift(1.0, 0.7, last - timedelta(days=1))


def test_spend_lift_reads_the_tail_alone_from_lift_start(world) -> None:
    """``lift_start`` the day after the test's end reads the carry-over tail alone: the whole
    read-out less the test's own days, most of the in-test lift again for the decay-0.9
    channel; from the test's start it is the default; outside the read-out an error."""
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(world("long_carry_over"))
    first = START + timedelta(days=14)
    last = first + timedelta(days=13)
    until = last + timedelta(days=28)
    lift = partial(truth.spend_lift, "paid_social", first, last, 1.0, 0.7)
    tail = lift(until, last + timedelta(days=1))
    assert tail == pytest.approx(lift(until) - lift())
    assert tail > 0.5 * lift()
    assert lift(until, first) == lift(until)
    later = lift(until, last + timedelta(days=8))
    assert 0 < later < tail
    with pytest.raises(ValueError, match="lift start"):
        lift(until, until + timedelta(days=1))
    with pytest.raises(ValueError, match="lift start"):
        lift(until, first - timedelta(days=1))


def test_oracle_and_optimiser_value_a_plan_alike_with_the_following_weeks_held(world) -> None:
    """``carryover_days`` is one definition on both sides: on a world without seasonality (the
    optimiser phases spend by its index, the market spends evenly), the truth's
    ``expected_revenue`` over the week and 28 days of the plan's spend going on, less the same
    with nothing spent, is the optimiser's value of the same plan on the true curves, line by
    line and for the plan it makes (which the tail moves); and the oracle's best split of the
    same total within the same bounds is the optimiser's plan."""
    from marketing_ops.decisioning import BudgetPolicy, plan_budget
    from marketing_ops.decisioning.budget.optimiser import incremental_period_revenue
    from marketing_ops.simulator import load_ground_truth

    truth = load_ground_truth(world("long_carry_over"))
    flat = replace(truth.world, weekly=[1.0] * 7, yearly_amplitude=0.0, holiday_lift=1.0)
    truth = type(truth)(flat, truth.daily)
    first = START + timedelta(days=42)
    before = truth.daily[truth.daily["date"] < first.isoformat()]
    channels = ["paid_search", "display", "paid_social"]
    carry = {c: float(before.loc[before["channel"] == c, "adstock"].iloc[-1]) for c in channels}
    curves = {c: truth.curves[c] for c in channels}
    last = {c: float(before.loc[before["channel"] == c, "spend"].iloc[-7:].sum()) for c in channels}
    for tail in (0, 28):
        for c in channels:
            for amount in (0.5 * last[c], last[c], 1.5 * last[c]):
                market = truth.expected_revenue({c: amount}, first, 7, tail)
                market -= truth.expected_revenue({c: 0.0}, first, 7, tail)
                plan = incremental_period_revenue(curves[c], amount, None, carry[c], 7, tail)[1]
                assert plan == pytest.approx(market, rel=1e-9)
    policy = BudgetPolicy(max_shift_pct=100, carryover_days=28)
    plan = plan_budget(curves, last, {}, carry, policy)
    week = plan_budget(curves, last, {}, carry, policy.model_copy(update={"carryover_days": 0}))
    total = sum(last.values())
    assert abs(plan.amounts["paid_social"] - week.amounts["paid_social"]) > 0.02 * total
    zero = dict.fromkeys(channels, 0.0)
    assert plan.expected_revenue == pytest.approx(
        truth.expected_revenue(plan.amounts, first, 7, 28)
        - truth.expected_revenue(zero, first, 7, 28),
        rel=1e-9,
    )
    bounds = {c: (0.0, 2 * last[c]) for c in channels}  # max shift 100 %
    oracle = truth.oracle_allocation(total, 7, first, bounds, 28)
    for c in channels:
        assert plan.amounts[c] == pytest.approx(oracle[c], abs=0.01 * total)


def test_lift_studies_report_the_true_lift_with_the_noise_their_error_states(world) -> None:
    """``lift_studies`` (what bench_decisions calibrates on and the demo writes as the market's
    past tests): one test per paid channel, one after the other, the last read-out ending two
    weeks before the day; with tail rows each test is two rows, its own days and the days
    after its end (the in-test row's error); each lift is the true one plus seeded noise."""
    from marketing_ops.simulator import lift_studies, load_ground_truth
    from marketing_ops.simulator.lift_studies import AD_CHANNELS

    truth = load_ground_truth(world("long_carry_over"))
    as_of = START + timedelta(days=DAYS - 1)
    study = partial(lift_studies, truth, as_of, days=7, readout=7, tail_rows=True, tail_se="test")
    rows = study(seed=3)
    assert [r.channel for r in rows] == [c for c in AD_CHANNELS for _ in range(2)]
    assert rows[-1].read_until == pd.Timestamp(as_of - timedelta(days=14))
    z = []
    for test, tail in zip(rows[::2], rows[1::2], strict=True):
        assert test.read_from == test.start and test.read_until == test.end
        assert tail.read_from == test.end + pd.Timedelta(days=1)
        assert tail.read_until == test.end + pd.Timedelta(days=7)
        assert test.holdout_share == 0.3 and tail.standard_error == test.standard_error
        first, last = test.start.date(), test.end.date()
        own = truth.spend_lift(test.channel, first, last, 1.0, 0.7)
        after = truth.spend_lift(
            test.channel, first, last, 1.0, 0.7, last + timedelta(7), last + timedelta(1)
        )
        assert test.standard_error == pytest.approx(0.15 * own)
        z += [(test.lift - own) / test.standard_error, (tail.lift - after) / tail.standard_error]
    assert 0 < float(np.std(z)) < 3 and max(abs(v) for v in z) < 4
    assert [r.lift for r in study(seed=3)] == [r.lift for r in rows]  # seeded
    assert [r.lift for r in study(seed=4)] != [r.lift for r in rows]
