"""The agent's own tests reach the model: an executed spend pulse that has ended is read out on
the KPIs the model is fitted on and joins ``settings/experiments.csv`` as calibration, in the
forecasts asset, the decision asset and the closed loop alike
(``experiments.batch.calibration_experiments``); one
still waiting or still running is not read, and one that cannot be read is rejected with the
reason, on the ledger with the fit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.decisioning import load_policies
from marketing_ops.decisioning.ledger.decisions import append_entry
from marketing_ops.decisioning.ledger.models import VERDICT
from marketing_ops.experiments import spend_pulse
from marketing_ops.experiments.batch import calibration_experiments, finished_tests, own_readouts
from marketing_ops.experiments.governance import Proposal, experiment_actions
from marketing_ops.experiments.value import InformationValue
from marketing_ops.forecasting.mmm import ExperimentVerdict
from marketing_ops.forecasting.mmm.kpis import KPIFit, kpi_frame, verdict_records
from marketing_ops.warehouse import connect, replace_partition

CHANNEL, WEEKS = "paid_search", 4
runner = CliRunner()
WIDE = {"COLUMNS": "250"}
DECIDED = date(2026, 10, 10)  # the day the test was proposed


@pytest.fixture(scope="module")
def world():
    """120 days of the warehouse's daily KPIs, and a 4-week on/off pulse of paid search that
    ran from 2026-10-11: its off weeks spent nothing and lost ``effect`` conversions a day."""
    from marketing_ops.forecasting import load_forecast_settings
    from marketing_ops.simulator import WorldConfig
    from marketing_ops.simulator.daily import simulate_daily

    settings = load_forecast_settings().model_copy(update={"history_days": 120})
    kpis = simulate_daily(WorldConfig(seed=3, start=date(2026, 7, 26), days=120, contacts=200))
    kpis = kpis.kpis
    frame, _ = kpi_frame(kpis, settings)
    start = pd.Timestamp(DECIDED) + pd.Timedelta(days=1)
    history = frame[frame["date"] < start].set_index("date")
    design = spend_pulse(
        history["conversions"], history[CHANNEL], CHANNEL, start, WEEKS * 7, 7, "D"
    )
    off = [start + pd.Timedelta(days=i) for i, on in enumerate(design.schedule) if not on]
    effect = 8 * design.standard_error / len(off)  # eight of the design's standard errors
    ran = kpis.astype({"conversions": float})  # the model reads the total over channels
    hit = pd.to_datetime(ran["date_day"]).isin(off) & (ran["channel"] == CHANNEL)
    ran.loc[hit, "spend"] = 0.0
    ran.loc[hit, "conversions"] -= effect
    return settings, ran, design, effect * len(off)


def _rows(home, design, status: str) -> pd.DataFrame:
    policies = load_policies(home.policies)
    value = InformationValue(design.channel, 1.0, 1.0, 0.0, 100.0, 10.0)
    rows = experiment_actions(
        [Proposal(design, value)], "B-test", policies, pd.Timestamp(DECIDED), 91
    )
    return rows.assign(status=status, as_of=DECIDED)


def test_an_executed_pulse_that_ended_is_read_and_joins_the_given_experiments(home, world):
    settings, kpis, design, true_lift = world
    running = replace(design, name="pulse-still-running", end=design.end + pd.Timedelta(days=60))
    waiting = replace(design, name="pulse-never-approved")
    rows = pd.concat(
        [
            _rows(home, design, "executed"),
            _rows(home, running, "executed"),
            _rows(home, waiting, "pending_approval"),
        ],
        ignore_index=True,
    )
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.decisions", rows, DECIDED)
    home.settings.mkdir(parents=True, exist_ok=True)
    (home.settings / "experiments.csv").write_text(
        "channel,start,end,kind,lift,standard_error,spend_delta,name\n"
        "display,2026-08-01,2026-08-28,lift,300,100,5000,given-display-test\n"
    )

    experiments, unread = calibration_experiments(home, kpis, settings)

    assert unread == ()
    given, own = experiments
    assert given.name == "given-display-test"
    assert own.name == design.name and (own.channel, own.kind) == (CHANNEL, "lift")
    assert (own.start, own.end) == (design.start, design.end)
    assert own.spend_delta == design.spend_removed > 0  # the high arm adds back what it cut
    assert abs(own.lift - true_lift) < 3 * own.standard_error  # the pulse's lift recovered
    assert own.lift > 2 * own.standard_error

    # the fit's verdict on the ledger is the test's answer in `explain`
    decision_id = rows["decision_id"].iloc[0]
    out = runner.invoke(app, ["explain", decision_id, "--home", str(home.root)], env=WIDE)
    assert "**Read-out** none yet" in out.output, out.output
    fit = KPIFit(None, 1.0, "fit-with-the-pulse", "d", None, (ExperimentVerdict(own, True, ""),))
    for record in verdict_records(fit):
        append_entry(home, VERDICT, record)
    out = runner.invoke(app, ["explain", decision_id, "--home", str(home.root)], env=WIDE)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert (
        f"{design.name}: lift {own.lift:,.1f} (SE {own.standard_error:,.1f}), accepted as "
        "calibration · fit `fit-with-the" in text
    )


def test_a_test_the_warehouse_cannot_read_is_rejected_with_the_reason(home, world):
    settings, kpis, design, _ = world
    geo = replace(design, name="geo-test", kind="geo", treated=("north",), control=("south",))
    frame, channels = kpi_frame(kpis, settings)
    decisions = _rows(home, geo, "executed")
    assert [d.name for d in finished_tests(decisions, frame["date"].max())] == ["geo-test"]
    experiments, rejected = own_readouts(decisions, frame, channels)
    assert experiments == []
    (verdict,) = rejected
    assert not verdict.accepted and "cannot be read from the warehouse's national KPIs" in (
        verdict.reason
    )
    # unread, it has no lift: the ledger record says so instead of writing NaN
    fit = KPIFit(None, 1.0, "v", "d", None, (verdict,))
    (record,) = verdict_records(fit)
    assert record["lift"] is None and record["standard_error"] is None
    assert record["experiment"] == "geo-test" and record["accepted"] is False
    assert np.isnan(verdict.experiment.lift)
