"""Incrementality tests in the product's decision batch (pure: the decision asset calls these).

When ``testing.enabled`` and the media mix model's posterior is at hand, the decision asset
adds :func:`batch_tests`'s rows to the batch it decided: the same ``batch_id``, so
``agent.decisions``, ``marketing-ops explain`` and the batch's report show them like any
other action. Tests already running (approved, executed or still waiting in earlier batches,
read back from ``agent.decisions`` by :func:`running_tests`) count against the testing budget,
``max_concurrent`` and the contamination guard.

The posterior is not one of the decision's recorded input frames, so the test rows are
recorded with the batch as rows decided upstream (``record_batch(..., carried=tests)``): a
replay decides the rest again from the inputs and carries these as recorded.

When the warehouse has geo-level KPIs (``marts.fct_geo_kpis_daily``: the ad platforms'
geographic reports and GA4's regions, two geos or more), tests are matched-market geo tests
designed on them (:func:`forecasting.mmm.kpis.geo_kpi_frame`); else spend pulses on the
national KPI. When an executed test has ended, :func:`own_readouts` reads it on the KPIs the
model is fitted on (a spend pulse: :func:`experiments.readout.pulse_readout` on the national
daily KPI; a geo test: :func:`experiments.readout.geo_readout` on the geo KPIs, with its
tail when ``testing.tail_weeks`` reads one) and returns its calibration row: the forecasts
asset and the decision asset fit the model on it together with ``settings/experiments.csv``,
and the model's own checks decide (every verdict on the decision ledger with the fit).
"""

from __future__ import annotations

import json
import math

import pandas as pd

from marketing_ops.decisioning import DECISION_COLUMNS, PolicySet
from marketing_ops.decisioning.decide import latest_tests
from marketing_ops.experiments.designs import Design
from marketing_ops.experiments.governance import (
    Proposal,
    experiment_actions,
    periods_per_week,
    propose_tests,
)
from marketing_ops.experiments.readout import (
    geo_readout,
    geo_tail_readout,
    pulse_readout,
    readout_rows,
)
from marketing_ops.experiments.value import InformationValue
from marketing_ops.forecasting.mmm import Experiment, ExperimentVerdict, MMMFit, mmm_data

__all__ = [
    "ALL_CHANNELS",
    "OPEN_STATUSES",
    "STEER_WEEKS",
    "batch_tests",
    "calibrated_kpi_fit",
    "calibration_experiments",
    "finished_tests",
    "fit_of_curves",
    "geo_kpis",
    "own_readouts",
    "planned_spend",
    "running_tests",
    "propose_on_fit",
]

# How long a test's answer steers spend: a quarter (the value of information is counted over it)
STEER_WEEKS = 13
# A test in one of these states holds its geos, channel and share of the testing budget
OPEN_STATUSES = ("approved", "executed", "pending_approval", "proposed")
# The key of a reason that holds for every channel (no test at all)
ALL_CHANNELS = "*"


def _proposal(row: dict) -> Proposal:
    r = json.loads(row["rationale"])
    t, s = r["test"], r["scores"]
    design = Design(
        name=t["design"],
        kind=t["kind"],
        channel=str(row["channel"]),
        start=pd.Timestamp(t["start"]),
        end=pd.Timestamp(t["end"]),
        periods=int(t["periods"]),
        treated=tuple(t["treated_geos"]),
        control=tuple(t["control_geos"]),
        holdout=tuple(t["holdout"]),
        spend_removed=float(t["spend_removed"]),
        standard_error=float(s.get("standard_error", float("nan"))),
        power=float(s.get("power", float("nan"))),
        schedule=tuple(t["schedule"]),
        direction=t.get("direction", "holdout"),
        spend_added=float(t.get("spend_added", 0.0)),
        base_spend=float(t.get("base_spend") if t.get("base_spend") is not None else "nan"),
        notes={} if t.get("pre_end") is None else {"pre_end": pd.Timestamp(t["pre_end"])},
        readout_end=None if t.get("readout_end") is None else pd.Timestamp(t["readout_end"]),
    )
    value = InformationValue(
        channel=design.channel,
        evpi=float(s.get("value_of_perfect_information", 0.0)),
        evsi=float(s.get("value_of_information", 0.0)),
        cost=-float(s.get("expected_profit", 0.0)),
        expected_lift=float("nan"),
        lift_sd=float("nan"),
    )
    return Proposal(design, value)


def running_tests(decisions: pd.DataFrame, day) -> list[Proposal]:
    """Tests in ``agent.decisions`` still open or running on ``day`` (one per design: the
    latest row of each), rebuilt from their rationale. A test whose tail is read after it
    (``readout_end``) runs until then."""
    out = []
    for row in latest_tests(decisions):
        p = _proposal(row)
        if row["status"] in OPEN_STATUSES and p.design.read_until >= pd.Timestamp(day):
            out.append(p)
    return out


def finished_tests(decisions: pd.DataFrame | None, last_day) -> list[Design]:
    """Tests that ran (``executed``: every payload delivered) and ended by ``last_day``, the
    last day of the KPIs: what can be read out."""
    designs = [_proposal(r).design for r in latest_tests(decisions) if r["status"] == "executed"]
    return [d for d in designs if d.end <= pd.Timestamp(last_day)]


def calibration_experiments(
    home,
    kpis: pd.DataFrame,
    settings,
    tables: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[list, tuple]:
    """What the media mix model calibrates on in data home ``home``: the lift tests of
    ``settings/experiments.csv`` (docs/contracts.md) and the agent's own executed tests that
    have ended, read out on the KPIs the model is fitted on (:func:`own_readouts`); and the
    verdicts of the own tests that could not be used (they go on the ledger with the fit).
    Every fit of the product's KPIs calibrates on these rows (:func:`calibrated_kpi_fit`).
    ``tables``: ``agent.decisions`` and ``marts.fct_geo_kpis_daily`` when the caller has read
    them (:func:`_tests_and_geos`)."""
    from marketing_ops.forecasting.mmm import read_experiments
    from marketing_ops.forecasting.mmm.kpis import geo_kpi_frame, kpi_frame
    from marketing_ops.forecasting.settings import EXPERIMENTS_FILE

    path = home.settings / EXPERIMENTS_FILE
    given = read_experiments(path) if path.exists() else []
    decisions, geo = tables if tables is not None else _tests_and_geos(home)
    frame, channels = kpi_frame(kpis, settings)
    own, rejected = own_readouts(decisions, frame, channels, geo_kpi_frame(geo, frame, channels))
    return [*given, *own], tuple(rejected)


def _tests_and_geos(home) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``agent.decisions`` (the agent's tests) and ``marts.fct_geo_kpis_daily`` of ``home``,
    in one connection as every asset opens it (one configuration)."""
    from marketing_ops.warehouse import connect, read_table

    with connect(home.warehouse) as con:
        return read_table(con, "agent.decisions"), read_table(con, "marts.fct_geo_kpis_daily")


def geo_kpis(home) -> pd.DataFrame:
    """``marts.fct_geo_kpis_daily`` of data home ``home`` (empty when the warehouse has none):
    what the tests of :func:`propose_on_fit` are designed on."""
    from marketing_ops.warehouse import connect, read_table

    with connect(home.warehouse) as con:
        return read_table(con, "marts.fct_geo_kpis_daily")


def calibrated_kpi_fit(home, kpis: pd.DataFrame, settings, as_of, data_versions: dict):
    """The product's media mix model of ``kpis`` (:func:`forecasting.mmm.kpis.fit_channel_kpis`)
    calibrated on :func:`calibration_experiments`, the fit and its experiments' verdicts
    recorded on the decision ledger of ``home`` (once per fit version; ``data_versions``: the
    inputs' versions as the caller knows them). Returns (the fit or None without data, the
    ledger entries written). The forecasts asset, the decision asset's tests and the closed
    loop all fit through here. The fit is kept in the home's ``models/mmm/`` under its version
    (:func:`forecasting.mmm.kpis.store_fit`): :func:`fit_of_curves` reads it back."""
    from marketing_ops.decisioning import executed_test_spend, record_model_fit
    from marketing_ops.forecasting.mmm.kpis import (
        fit_channel_kpis,
        fit_record,
        mmm_model_version,
        store_fit,
        verdict_records,
    )

    tables = _tests_and_geos(home)
    experiments, unread = calibration_experiments(home, kpis, settings, tables)
    # a test is not a response break (fit_channel_kpis)
    tests = executed_test_spend(tables[0])
    result = fit_channel_kpis(kpis, settings, experiments, unread, tests=tests)
    if result is None:
        return None, []
    store_fit(home.models / "mmm", result)
    record = fit_record(result, as_of, mmm_model_version(settings), data_versions)
    return result, record_model_fit(home, record, verdict_records(result))


def fit_of_curves(home, fit_version: str | None):
    """The fit behind the response curves (``fit_version``: the one their rows name,
    ``decisioning.decide.response_model_of``) as :func:`calibrated_kpi_fit` kept it in
    ``home``; None when it is not kept (then fit again)."""
    from marketing_ops.forecasting.mmm.kpis import stored_fit

    return stored_fit(home.models / "mmm", fit_version)


def own_readouts(
    decisions: pd.DataFrame | None,
    frame: pd.DataFrame,
    channels: list[str],
    geo_frame: pd.DataFrame | None = None,
) -> tuple[list[Experiment], list[ExperimentVerdict]]:
    """The agent's own executed, ended tests read out on ``frame`` (``date``, the KPI
    ``conversions`` and spend per channel: the frame the model is fitted on,
    :func:`forecasting.mmm.kpis.kpi_frame`): the calibration rows for the model's own checks,
    and a rejected verdict, with the reason, for each test that could not be read or whose
    read-out failed its own checks.

    A spend pulse is read on the national KPI; a geo test on ``geo_frame``
    (:func:`forecasting.mmm.kpis.geo_kpi_frame`, in the national KPI's units), its tail too
    once its ``readout_end`` has passed. Without geo KPIs a geo test, and an audience holdout
    (per-contact outcomes), cannot be read: rejected, saying so."""
    if frame.empty or not channels:
        return [], []
    kpi = frame.set_index("date")["conversions"]
    last = frame["date"].max()
    geos = geo_frame is not None and not geo_frame.empty
    readouts, designs, rejected = [], [], []
    for d in finished_tests(decisions, last):
        if d.channel in channels and (d.kind == "pulse" or (d.kind == "geo" and geos)):
            if d.kind == "pulse":
                readouts.append(pulse_readout(kpi, d))
            else:
                readouts.append(geo_readout(geo_frame, d, "conversions"))
                if d.readout_end is not None and d.readout_end <= last:
                    readouts.append(geo_tail_readout(geo_frame, d, "conversions"))
            designs.append(d)
            continue
        why = (
            f"channel {d.channel} is not in the model (no spend in its history)"
            if d.channel not in channels
            else f"a {d.kind} test cannot be read from the warehouse's national KPIs "
            "(geo-level KPIs or per-contact outcomes needed)"
        )
        kind = {"geo": "geo", "pulse": "lift"}.get(d.kind, "holdout")
        row = Experiment(d.channel, d.start, d.end, kind, math.nan, math.nan, name=d.name)
        rejected.append(ExperimentVerdict(row, False, why))
    if not readouts:
        return [], rejected
    data = mmm_data(frame, "conversions", channels, "D")
    rows = readout_rows(readouts, designs, data)
    rejected += [ExperimentVerdict(e, False, why) for e, why in rows if why]
    return [e for e, why in rows if not why], rejected


def planned_spend(
    batch: pd.DataFrame, channels: list[str], freq: str, period_days: int
) -> dict[str, float]:
    """Each channel's spend per model period in the batch's budget plan (its budget actions'
    amounts, the EUR of a ``period_days`` budget period, summed over campaigns), for the
    channels the plan sets; a test is designed, priced and run at that level."""
    budget = batch[batch["action_type"] == "budget_allocation"]
    amounts = budget.groupby(budget["channel"].astype(str))["amount"].sum()
    days = 7 / periods_per_week(freq)  # days of a model period
    return {
        c: max(float(amounts[c]), 0.0) / period_days * days for c in channels if c in amounts.index
    }


def batch_tests(
    fit: MMMFit,
    day,
    policies: PolicySet,
    batch: pd.DataFrame,
    earlier: pd.DataFrame | None = None,
    autonomy=None,
    kpi_value: float = 1.0,
    model: dict | None = None,
    n_draws: int = 200,
    geo_frame: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tests worth proposing in ``batch`` (rows in the export contract's columns, its
    ``batch_id`` and ``created_at``) and, per channel not proposed, why.

    Tests start the day after ``day``; their value is counted over :data:`STEER_WEEKS` of
    the model's periods. ``earlier``: ``agent.decisions`` (running tests); ``kpi_value``:
    currency per unit of the model's KPI; ``model``: the fit the values rest on;
    ``geo_frame``: the geo KPIs (:func:`forecasting.mmm.kpis.geo_kpi_frame`): with two geos or
    more the tests are matched-market geo tests, else national spend pulses."""
    empty = pd.DataFrame(columns=DECISION_COLUMNS)
    if not policies.testing.enabled:
        return empty, {c: "testing.enabled is false" for c in fit.data.channels}
    if batch.empty:
        return empty, {c: "the batch has no actions to join" for c in fit.data.channels}
    start = pd.Timestamp(day) + pd.Timedelta(days=1)
    horizon = STEER_WEEKS * periods_per_week(fit.data.freq)
    frame = (
        geo_frame
        if geo_frame is not None and not geo_frame.empty
        else pd.DataFrame({"date": fit.data.dates})  # national: spend pulses
    )
    wanted = list(policies.testing.channels or fit.data.channels)
    # tests at the plan's level (a channel the batch cuts to zero has nothing to hold out:
    # only a spend-up can test it)
    planned = planned_spend(batch, wanted, fit.data.freq, policies.budget.period_days)
    kept, skipped = propose_tests(
        fit,
        frame,
        start,
        policies.testing.model_copy(update={"channels": wanted}),
        running_tests(earlier, start),
        horizon,
        n_draws=n_draws,
        kpi_value=kpi_value,
        planned=planned,
    )
    first = batch.iloc[0]
    actions = experiment_actions(
        kept,
        str(first["batch_id"]),
        policies,
        first["created_at"],
        horizon,
        autonomy=autonomy,
        model=model,
    )
    return actions, skipped


def propose_on_fit(
    result,
    day,
    policies: PolicySet,
    batch: pd.DataFrame,
    earlier: pd.DataFrame | None,
    autonomy,
    settings,
    geo: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`batch_tests` on the product's fit of the KPIs (``result``: a
    :class:`~marketing_ops.forecasting.mmm.kpis.KPIFit` from :func:`calibrated_kpi_fit`,
    ``settings``: the forecast settings it was fitted with): a fit that did not converge
    prices no test (the rule of the curves' blocking check), else the tests with the model
    they rest on named as the curves name it. ``geo``: ``marts.fct_geo_kpis_daily``
    (:func:`geo_kpis`; geo tests when it has two geos or more). The decision asset and the
    closed loop both propose through here."""
    from marketing_ops.forecasting.mmm.kpis import FIT_TAG, geo_kpi_frame, mmm_model_version

    diagnostics = result.fit.diagnostics
    if not diagnostics.ok:
        why = f"the media mix model did not converge ({diagnostics.as_dict()}): no test is priced"
        return pd.DataFrame(columns=DECISION_COLUMNS), {ALL_CHANNELS: why}
    version = mmm_model_version(settings)
    model = {"model_version": f"{version}{FIT_TAG}{result.version}", "mmm_fit": result.version}
    return batch_tests(
        result.fit,
        day,
        policies,
        batch,
        earlier,
        autonomy,
        kpi_value=result.value_per_conversion,
        model=model,
        geo_frame=geo_kpi_frame(geo, _national_frame(result), result.fit.data.channels),
    )


def _national_frame(result) -> pd.DataFrame:
    """The national daily frame a fit saw (``date``, ``conversions``): the days and the total
    the geo KPIs are aligned and scaled to."""
    data = result.fit.data
    return pd.DataFrame({"date": data.dates, "conversions": data.kpi.sum(axis=0)})
