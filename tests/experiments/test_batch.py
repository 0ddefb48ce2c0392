"""Incrementality tests in the product's decision batch: with ``testing.enabled`` the tests
priced on the media mix model's posterior join the day's batch (same batch id), are recorded
on the ledger with it (a replay reproduces the whole batch), stored in ``agent.decisions``,
and ``explain`` and ``decisions`` show them with channel, cost, value of information and power;
a test already running holds its slot in the next batch."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner
from worlds.decisions import AS_OF, SIGNALS, inputs

from marketing_ops.cli import app
from marketing_ops.decisioning import AutonomyState, decide, keep_earlier_batches, load_policies
from marketing_ops.decisioning.batch.replay import record_batch, replay_batch
from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.decisions.testing import proposed_tests
from marketing_ops.experiments.batch import batch_tests, propose_on_fit, running_tests
from marketing_ops.experiments.governance import ACTION_TYPE
from marketing_ops.warehouse import connect, read_table, replace_partition

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
TESTING = """testing:
  enabled: true
  budget_eur: 1000000000
  approval_above_eur: 0
  min_power: 0.0
  min_value_of_information_eur: -1  # the short test fit prices every answer at 0
  min_value_share_of_spend: 0
  min_net_value_eur: -1000000000
  min_weeks: 2
  max_weeks: 4
  max_concurrent: 1
"""


@pytest.fixture(scope="module")
def daily_kpis() -> pd.DataFrame:
    """120 days of warehouse-shaped daily channel KPIs."""
    from marketing_ops.simulator import WorldConfig
    from marketing_ops.simulator.daily import simulate_daily

    world = WorldConfig(seed=3, start=date(2026, 7, 26), days=120, contacts=200)
    return simulate_daily(world).kpis


@pytest.fixture(scope="module")
def kpi_fit(daily_kpis):
    """The product's fit of warehouse-shaped daily KPIs (conversions; short sampler)."""
    from marketing_ops.forecasting import load_forecast_settings
    from marketing_ops.forecasting.mmm.kpis import fit_channel_kpis

    s = load_forecast_settings()
    mmm = s.mmm.model_copy(update={"warmup": 30, "draws": 30, "chains": 1, "curve_draws": 5})
    settings = s.model_copy(update={"mmm": mmm, "history_days": 120})
    return fit_channel_kpis(daily_kpis, settings)


def _decide_with_tests(home, result, earlier=None):
    """What the decision asset does with testing on, without Dagster: decide, add the tests,
    record the batch on the ledger (tests carried), store it in agent.decisions."""
    frames, policies, autonomy = inputs(), load_policies(home.policies), AutonomyState()
    batch = decide(AS_OF, frames, policies, autonomy, SIGNALS).batch
    model = {"model_version": "mmm-test", "mmm_fit": result.version}
    tests, skipped = batch_tests(
        result.fit, AS_OF, policies, batch, earlier, autonomy, result.value_per_conversion, model
    )
    full = pd.concat([batch, tests], ignore_index=True) if len(tests) else batch
    entry = record_batch(
        home,
        as_of=AS_OF,
        batch=full,
        inputs=frames,
        policies_dir=Path(home.policies),
        policy_version=policies.version,
        autonomy=autonomy,
        signals=SIGNALS,
        carried=tests,
    )
    with connect(home.warehouse) as con:
        day = read_table(con, "agent.decisions", date_column="as_of", start=AS_OF, end=AS_OF)
        replace_partition(
            con, "agent.decisions", keep_earlier_batches(day, full.assign(as_of=AS_OF)), AS_OF
        )
    return full, tests, skipped, entry


def test_an_enabled_testing_policy_puts_a_test_in_the_batch_that_explain_shows(home, kpi_fit):
    (home.policies / "testing.yaml").write_text(TESTING)
    batch, tests, skipped, entry = _decide_with_tests(home, kpi_fit)
    assert len(tests) == 1, skipped
    test = tests.iloc[0]
    assert test["action_type"] == ACTION_TYPE
    assert test["batch_id"] == batch["batch_id"].iloc[0]  # the same batch as the budget
    # testing.every_test_waits_for_approval is on by default: whatever sign the fit gives
    # the cost, the test waits (test_governance pins the threshold when it is off)
    assert test["status"] == "pending_approval"
    # every other channel was left out, and says why: one test at a time, unless its own
    # design was refused first (on a 30-draw fit, whether email's pulse passes the
    # calibration check's power gate turns on the machine's floating point)
    assert set(skipped) == set(kpi_fit.fit.data.channels) - {test["channel"]}
    assert all(
        "max_concurrent" in why or "its read-out would be rejected" in why
        for why in skipped.values()
    ), skipped
    rationale = json.loads(test["rationale"])
    scores = rationale["scores"]
    assert scores["value_of_information"] >= 0 and 0 <= scores["power"] <= 1
    assert scores["cost_eur"] == pytest.approx(-scores["expected_profit"])
    # against not testing, the test gains its value minus its cost
    (no_test,) = rationale["alternatives"]
    assert no_test["difference"] == pytest.approx(scores["net_value"])
    assert "KPI units at" in rationale["summary"]  # the model's KPI is conversions
    assert rationale["test"]["kind"] == "pulse"  # the warehouse's KPIs have no geo
    up = rationale["test"]["direction"] == "spend_up"
    assert (test["amount"] > 0) == up  # a spend-up adds spend, a holdout pulse removes it
    assert rationale["test"]["periods"] % 7 == 0  # weeks of a daily model
    assert pd.Timestamp(rationale["test"]["start"]).date() > AS_OF

    assert test["decision_id"] in entry["decision_ids"] and entry["actions"] == len(batch)
    assert entry["replay_verified"] is True
    assert replay_batch(home, entry["batch_id"]).identical

    out = runner.invoke(app, ["explain", test["decision_id"], "--home", str(home.root)], env=WIDE)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert f"{test['decision_id']} · {ACTION_TYPE} · {test['channel']}" in text
    design = "spend-up pulse" if up else "on/off spend pulse"
    assert f"Test {test['channel']}: {design}" in text
    assert "value_of_information" in text and "power" in text and "cost_eur" in text
    assert "waits for a named approver because" in text
    listed = runner.invoke(app, ["decisions", "--home", str(home.root)], env=WIDE)
    assert listed.exit_code == 0, listed.output
    assert test["decision_id"] in listed.output


def test_a_running_test_holds_its_slot_in_the_next_batch(home, kpi_fit):
    (home.policies / "testing.yaml").write_text(TESTING)
    _, first, _, _ = _decide_with_tests(home, kpi_fit)
    with connect(home.warehouse, read_only=True) as con:
        stored = read_table(con, "agent.decisions")
    (running,) = running_tests(stored, pd.Timestamp(AS_OF))
    assert running.design.channel == first["channel"].iloc[0]
    _, again, skipped, _ = _decide_with_tests(home, kpi_fit, earlier=stored)
    assert again.empty
    assert all("max_concurrent 1 tests already running" in why for why in skipped.values())


def test_testing_needs_the_media_mix_model(home):
    """With the attributed curves (the default `auto` under a year of KPI history) there is no
    posterior to price a test on: nothing is proposed, and the reason names the setting."""
    (home.policies / "testing.yaml").write_text(TESTING)
    policies = load_policies(home.policies)
    store = StoreResource(home_root=str(home.root))
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    out = proposed_tests(
        store, AS_OF, pd.DataFrame(), policies, AutonomyState(), batch, None, SIGNALS
    )
    assert out.tests.empty and "response_model: mmm" in out.untested["*"]
    assert "auto with 0 days of KPI history" in out.untested["*"]
    assert out.posterior == ""


def test_no_accepted_read_out_no_before_and_after(kpi_fit):
    """The posterior comparison needs a read-out the model accepted; a plain fit has none."""
    from marketing_ops.defs.decisions.testing import calibration_shift

    assert kpi_fit.verdicts == () and calibration_shift(kpi_fit) == ""


def test_a_channel_the_batch_cuts_to_zero_gets_a_spend_up_not_a_holdout(home, kpi_fit):
    """A holdout of a channel planned at zero removes nothing; a spend-up (its recent level in
    on flights, nothing in off ones) is the test that can still measure it."""
    (home.policies / "testing.yaml").write_text(TESTING)
    policies = load_policies(home.policies)
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    budget = batch["action_type"] == "budget_allocation"
    cut = batch.assign(amount=batch["amount"].where(~budget, 0.0))
    cut_channels = sorted(set(batch.loc[budget, "channel"]) & set(kpi_fit.fit.data.channels))
    assert cut_channels
    only_cut = policies.model_copy(
        update={"testing": policies.testing.model_copy(update={"channels": cut_channels})}
    )
    tests, why = batch_tests(kpi_fit.fit, AS_OF, only_cut, cut, None, AutonomyState(), 1.0)
    assert len(tests) == 1, why  # max_concurrent 1
    test = json.loads(tests["rationale"].iloc[0])["test"]
    assert test["direction"] == "spend_up" and test["kind"] == "pulse"
    assert test["base_spend"] == 0.0 and test["spend_removed"] == 0.0
    assert tests["amount"].iloc[0] == pytest.approx(test["spend_added"]) and test["spend_added"] > 0
    assert set(why) == set(cut_channels) - {tests["channel"].iloc[0]}


def test_a_fit_the_gate_blocks_prices_no_test_in_the_asset_or_the_loop(home, kpi_fit):
    """``propose_on_fit``, where the decision asset and ``simulate-loop``'s turn both propose:
    the short one-chain fit fails the convergence gate, so with testing on nothing is priced
    (where ``batch_tests`` alone would price a test on it), and the reason names the gate's
    verdict."""
    from marketing_ops.forecasting import load_forecast_settings

    (home.policies / "testing.yaml").write_text(TESTING)
    policies = load_policies(home.policies)
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    assert not kpi_fit.fit.diagnostics.ok
    ungated, _ = batch_tests(kpi_fit.fit, AS_OF, policies, batch, None, AutonomyState(), 1.0)
    assert len(ungated) == 1  # what the gate stops
    tests, why = propose_on_fit(
        kpi_fit, AS_OF, policies, batch, None, AutonomyState(), load_forecast_settings()
    )
    assert tests.empty and list(why) == ["*"]
    assert "did not converge" in why["*"] and "one chain" in why["*"]


def test_the_tests_are_priced_on_the_fit_behind_the_curves_without_sampling_again(
    home, kpi_fit, daily_kpis, monkeypatch
):
    """The decision asset prices its tests on the fit its curve rows name, as the
    `response_curves` asset kept it in the home (`models/mmm/`), and samples nothing; a fit
    version the home does not keep is fitted again."""
    from marketing_ops.forecasting.mmm import kpis as kpis_module
    from marketing_ops.forecasting.mmm.kpis import store_fit

    (home.policies / "testing.yaml").write_text(TESTING)
    home.settings.mkdir(parents=True, exist_ok=True)
    (home.settings / "forecasting.yaml").write_text("forecasting:\n  response_model: mmm\n")
    policies = load_policies(home.policies)
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    store_fit(home.models / "mmm", kpi_fit)

    def sampled_again(*args, **kwargs):
        raise AssertionError("sampled again")

    monkeypatch.setattr(kpis_module, "fit_channel_kpis", sampled_again)
    store = StoreResource(home_root=str(home.root))
    args = (store, AS_OF, daily_kpis, policies, AutonomyState(), batch, None, SIGNALS)
    out = proposed_tests(*args, curves_fit=kpi_fit.version)
    # the kept fit is the short one-chain fit: read back, gated like any other
    assert out.tests.empty and "one chain" in out.untested["*"]
    with pytest.raises(AssertionError, match="sampled again"):
        proposed_tests(*args, curves_fit="0" * 64)


def test_the_home_keeps_its_newest_fits_and_never_takes_one_for_another(tmp_path, kpi_fit):
    """`store_fit` keeps the newest fits only; `stored_fit` reads one back whole, and gives
    nothing for a version it pruned, a file it cannot read, or a file of another version."""
    import os
    import shutil
    from dataclasses import replace

    import numpy as np

    from marketing_ops.forecasting.mmm.kpis import store_fit, stored_fit

    folder = tmp_path / "mmm"
    for i in range(4):
        path = store_fit(folder, replace(kpi_fit, version=f"v{i}"), keep=3)
        os.utime(path, ns=(i, i))  # oldest first, whatever the clock's resolution
    assert sorted(p.stem for p in folder.glob("*.pkl")) == ["v1", "v2", "v3"]
    assert stored_fit(folder, "v0") is None and stored_fit(folder, None) is None
    back = stored_fit(folder, "v3")
    assert back.version == "v3" and back.fit.diagnostics == kpi_fit.fit.diagnostics
    assert back.fit.samples.keys() == kpi_fit.fit.samples.keys()
    assert all(np.array_equal(back.fit.samples[k], v) for k, v in kpi_fit.fit.samples.items())
    (folder / "v2.pkl").write_bytes(b"not a pickle")
    assert stored_fit(folder, "v2") is None
    shutil.copyfile(folder / "v3.pkl", folder / "v9.pkl")
    assert stored_fit(folder, "v9") is None


def test_a_test_is_designed_and_priced_at_the_plans_level(home, kpi_fit):
    """Each channel's test is built at what the batch plans to spend on it, not at the
    history's level: its `base_spend` is the plan's daily spend, and a plan twice as large
    gives a design that moves twice the spend."""
    from marketing_ops.experiments.value import reference_spend

    (home.policies / "testing.yaml").write_text(TESTING)
    policies = load_policies(home.policies)
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    budget = batch["action_type"] == "budget_allocation"
    # the channel the KPI world spends most on, planned at its history's level, then twice it
    fit = kpi_fit.fit
    planned = sorted(set(batch.loc[budget, "channel"]) & set(fit.data.channels))
    channel = max(planned, key=lambda c: reference_spend(fit, c))
    level, days = reference_spend(fit, channel), policies.budget.period_days
    only = policies.model_copy(
        update={"testing": policies.testing.model_copy(update={"channels": [channel]})}
    )

    def designed(multiple: float):
        mine = budget & (batch["channel"] == channel)
        share = batch.loc[mine, "amount"] / batch.loc[mine, "amount"].sum()
        b = batch.copy()
        b.loc[mine, "amount"] = share * level * days * multiple
        tests, why = batch_tests(fit, AS_OF, only, b, None, AutonomyState(), 1.0)
        assert len(tests) == 1, why
        return tests.iloc[0], json.loads(tests["rationale"].iloc[0])["test"]

    row, test = designed(1.0)
    assert test["base_spend"] == pytest.approx(level)
    row2, test2 = designed(2.0)
    assert test2["base_spend"] == pytest.approx(2 * level)
    if test2["direction"] == test["direction"] and test2["periods"] == test["periods"]:
        assert row2["amount"] == pytest.approx(2 * row["amount"])


def _geo_kpis(daily_kpis: pd.DataFrame, geos: int = 6) -> pd.DataFrame:
    """``marts.fct_geo_kpis_daily``-shaped rows: each channel's day split over ``geos``
    regions of unequal size by their shares (only 70 % of the conversions placed, as GA4
    places online purchases but not deals)."""
    shares = np.random.default_rng(5).dirichlet(np.full(geos, 4.0))
    rows = []
    for r in daily_kpis.itertuples():
        placed = 0.7 * float(r.conversions) * shares
        for g, share in enumerate(shares):
            rows.append(
                {
                    "date_day": r.date_day,
                    "geo": f"geo{g}",
                    "channel": r.channel,
                    "spend": float(r.spend) * share,
                    "conversions": placed[g],
                    "revenue": 0.0,
                }
            )
    return pd.DataFrame(rows)


def test_with_geo_kpis_the_test_is_a_matched_market_test_read_on_them(home, daily_kpis, kpi_fit):
    """When the warehouse has geo KPIs (two geos or more), ``propose_on_fit`` designs a
    matched-market geo test on them, in the national KPI's units (the placed purchases scaled
    to the national total); once it has run, ``own_readouts`` reads it on the same geo frame
    (difference in differences) instead of refusing it; without geo KPIs it is refused."""
    from marketing_ops.experiments.batch import own_readouts
    from marketing_ops.forecasting import load_forecast_settings
    from marketing_ops.forecasting.mmm.diagnostics import FitDiagnostics
    from marketing_ops.forecasting.mmm.kpis import geo_kpi_frame, kpi_frame

    settings = load_forecast_settings().model_copy(update={"history_days": 120})
    frame, channels = kpi_frame(daily_kpis, settings)
    geo_kpis = _geo_kpis(daily_kpis)
    geo = geo_kpi_frame(geo_kpis, frame, channels)
    assert len(geo) == len(frame) * 6 and list(geo.columns) == [
        "date",
        "geo",
        "conversions",
        *channels,
    ]
    assert geo["conversions"].sum() == pytest.approx(frame["conversions"].sum())
    national_spend = frame[channels].sum()
    assert geo.groupby("date")[channels].sum().sum().to_numpy() == pytest.approx(
        national_spend.to_numpy()
    )
    one_geo = geo_kpis[geo_kpis["geo"] == "geo0"]
    assert geo_kpi_frame(one_geo, frame, channels).empty  # a single geo tests nothing

    (home.policies / "testing.yaml").write_text(TESTING)
    policies = load_policies(home.policies)
    batch = decide(AS_OF, inputs(), policies, AutonomyState(), SIGNALS).batch
    # the short fit as if it had passed the gate (what the asset and the loop would price on)
    passed = FitDiagnostics(1.0, 1000.0, 0, 1000, 2)
    fit = replace(kpi_fit, fit=replace(kpi_fit.fit, diagnostics=passed))
    tests, why = propose_on_fit(
        fit, AS_OF, policies, batch, None, AutonomyState(), settings, geo_kpis
    )
    assert len(tests) == 1, why
    test = json.loads(tests["rationale"].iloc[0])["test"]
    assert test["kind"] == "geo" and test["treated_geos"] and test["control_geos"]
    assert set(test["treated_geos"]) | set(test["control_geos"]) <= set(geo["geo"])

    # a geo holdout of the busiest channel that ran inside the history, executed
    from marketing_ops.experiments import geo_holdout
    from marketing_ops.experiments.governance import Proposal, experiment_actions
    from marketing_ops.experiments.value import InformationValue

    channel = max(channels, key=lambda c: national_spend[c])
    start = frame["date"].iloc[-1] - pd.Timedelta(weeks=3)
    design = geo_holdout(geo, channel, "conversions", start, 14, "D")
    ran = experiment_actions(
        [Proposal(design, InformationValue(channel, 1.0, 1.0, 0.0, 10.0, 1.0))],
        "B-1",
        policies,
        start - pd.Timedelta(days=1),
        91,
    ).assign(status="executed", as_of=(start - pd.Timedelta(days=1)).date())
    rows, rejected = own_readouts(ran, frame, channels, geo)
    assert rejected == [] and len(rows) == 1
    (row,) = rows
    assert row.kind == "geo" and row.channel == channel and row.name == design.name
    assert np.isfinite(row.lift) and row.standard_error > 0
    rows, rejected = own_readouts(ran, frame, channels)  # no geo KPIs: not readable
    assert rows == [] and "national KPIs" in rejected[0].reason
