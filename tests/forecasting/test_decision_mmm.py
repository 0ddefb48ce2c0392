"""The media mix model as the response_curves asset fits it for decisions: the warehouse's
KPIs without control columns, a fit version that changes with what the fit depends on,
experiment verdicts with their reasons, and a recent converged fit reused (``refit_days``)
with its fit version kept on the curves it hands to the decision layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.forecasting import load_forecast_settings
from marketing_ops.forecasting.mmm import Experiment
from marketing_ops.forecasting.mmm.kpis import (
    FIT_TAG,
    SUMMARY_COLUMNS,
    _fit_version,
    fit_channel_kpis,
    fit_of_model_version,
    fit_record,
    mmm_model_version,
    summary_frame,
    verdict_records,
)
from marketing_ops.simulator import WorldConfig
from marketing_ops.simulator.daily import simulate_daily
from marketing_ops.warehouse import connect, replace_partition

START = date(2025, 1, 6)
DAYS = 120


@pytest.fixture(scope="module")
def settings():
    s = load_forecast_settings()
    mmm = s.mmm.model_copy(update={"warmup": 20, "draws": 20, "chains": 1, "curve_draws": 5})
    return s.model_copy(update={"mmm": mmm, "history_days": DAYS})


@pytest.fixture(scope="module")
def kpis():
    return simulate_daily(WorldConfig(seed=3, start=START, days=DAYS, contacts=200)).kpis


@pytest.fixture(scope="module")
def result(kpis, settings):
    """One short fit on the warehouse-shaped KPIs (no control columns), calibrated with one
    experiment too short to use."""
    short = Experiment(
        "paid_search",
        pd.Timestamp(START + timedelta(days=60)),
        pd.Timestamp(START + timedelta(days=64)),
        "holdout",
        lift=30.0,
        standard_error=10.0,
        holdout_share=1.0,
        name="five-day search holdout",
    )
    return fit_channel_kpis(kpis, settings, [short])


def test_fits_without_control_columns(result) -> None:
    assert result.fit.data.controls.shape[-1] == 0
    assert set(result.fit.data.channels) == {"paid_search", "display", "paid_social", "email"}
    assert result.value_per_conversion > 0


def test_bad_experiment_is_rejected_with_its_reason(result) -> None:
    (verdict,) = verdict_records(result)
    assert verdict["accepted"] is False
    assert verdict["reason"] == "too short: 5 days < 14"
    assert verdict["experiment"] == "five-day search holdout"
    assert verdict["readout_end"] == verdict["end"]  # no read-out past the test given
    assert verdict["lift_start"] == verdict["start"]  # read from the test's start
    assert verdict["fit_version"] == result.version


def test_fit_version_follows_data_priors_sampler_and_experiments(result, settings) -> None:
    fit, model = result.fit, mmm_model_version(settings)
    same = _fit_version(result.data_version, fit, result.sampler, model, [])
    assert same == _fit_version(result.data_version, fit, result.sampler, model, [])
    others = {
        _fit_version("other data", fit, result.sampler, model, []),
        _fit_version(result.data_version, fit, replace(result.sampler, seed=1), model, []),
        _fit_version(
            result.data_version,
            replace(fit, priors=replace(fit.priors, media_share=0.5)),
            result.sampler,
            model,
            [],
        ),
        _fit_version(result.data_version, fit, result.sampler, model + "x", []),
        result.version,  # calibrated with one (rejected) experiment
    }
    assert same not in others and len(others) == 5
    record = fit_record(result, START, model, {"marts/fct_channel_kpis_daily": "dv"})
    assert record["fit_version"] == result.version
    assert record["data_versions"]["mmm_input_frame"] == result.data_version
    assert record["diagnostics"]["chains"] == 1 and record["converged"] is False


def _store(tmp_path):
    from marketing_ops.defs._shared import StoreResource

    home = data_home(tmp_path).ensure()
    return StoreResource(home_root=str(home.root)), home


def _rows(result, settings, day: date, converged: bool = True):
    """What the asset stores for a fit made on ``day``: summary rows and tagged curve rows."""
    from marketing_ops.forecasting.mmm.curves import mmm_response_frame

    version = mmm_model_version(settings)
    summary = summary_frame(result.fit, day, version, 1.0, result.version)
    summary["converged"] = converged
    tagged = f"{version}{FIT_TAG}{result.version}"
    return summary, mmm_response_frame(result.fit, day, tagged, 1.0, 3)


def test_recent_converged_fit_is_reused_with_its_fit_version(result, settings, tmp_path) -> None:
    from marketing_ops.defs.forecasts.assets import _stored_mmm

    store, home = _store(tmp_path)
    fitted_on, day = date(2025, 5, 1), date(2025, 5, 4)
    summary, curves = _rows(result, settings, fitted_on)
    assert list(summary.columns) == SUMMARY_COLUMNS
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.mmm_channel_summary", summary, fitted_on)
        replace_partition(con, "agent.response_curves", curves, fitted_on)
    version = mmm_model_version(settings)
    reused_curves, reused_summary = _stored_mmm(store, day, settings, version)
    assert len(reused_curves) == len(curves) and (reused_curves["as_of"] == day).all()
    assert {fit_of_model_version(v) for v in reused_curves["model_version"]} == {result.version}
    assert (pd.to_datetime(reused_summary["fitted_on"]).dt.date == fitted_on).all()
    assert (reused_summary["fit_version"] == result.version).all()
    # older than refit_days: refitted, not reused
    late = fitted_on + timedelta(days=settings.mmm.refit_days)
    assert _stored_mmm(store, late, settings, version)[1].empty
    # another model version: not reused
    assert _stored_mmm(store, day, settings, version + "-other")[1].empty


def test_fit_that_did_not_converge_is_never_reused(result, settings, tmp_path) -> None:
    from marketing_ops.defs.forecasts.assets import _stored_mmm

    store, home = _store(tmp_path)
    fitted_on = date(2025, 5, 1)
    summary, curves = _rows(result, settings, fitted_on, converged=False)
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.mmm_channel_summary", summary, fitted_on)
        replace_partition(con, "agent.response_curves", curves, fitted_on)
    version = mmm_model_version(settings)
    assert _stored_mmm(store, fitted_on + timedelta(days=2), settings, version)[1].empty
