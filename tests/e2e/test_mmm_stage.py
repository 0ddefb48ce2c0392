"""The media mix model inside the real flow: the default `response_model: auto` picks it
once the KPI history has `mmm.min_history_days` days (lowered here to the flow world's
length), its fit lands in agent.mmm_channel_summary, and its convergence is a BLOCKING check
on the response curves.

Reuses the session's flow world (copied, so its own tests keep the attributed curves) and
re-runs the decision job as of its last day with a sampler far too short to converge: the
check must fail, no curves may be stored for the day, and no decision may be made from them."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from marketing_ops.config import DataHome
from marketing_ops.runner import DECIDE_JOB, prepare_instance, run_job
from marketing_ops.warehouse import connect, read_table

SETTINGS = """forecasting:
  mmm: {warmup: 10, draws: 10, chains: 1, curve_draws: 5, min_history_days: 60}
"""


@pytest.fixture(scope="module")
def mmm_home(flow_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("mmm-home") / "home"
    shutil.copytree(flow_world.home.root, root)
    home = DataHome(root)
    (home.settings).mkdir(exist_ok=True)
    (home.settings / "forecasting.yaml").write_text(SETTINGS)
    try:
        instance = prepare_instance(home)
        outcome = run_job(instance, DECIDE_JOB, flow_world.end, flow_world.end)
        yield home, instance, outcome
    finally:
        prepare_instance(flow_world.home)  # the other tests' environment points back


def test_unconverged_fit_is_recorded_and_blocks_the_decision(flow_world, mmm_home) -> None:
    home, instance, outcome = mmm_home
    day = flow_world.end
    with connect(home.warehouse, read_only=True) as con:
        summary = read_table(con, "agent.mmm_channel_summary", date_column="as_of", start=day)
        curves = read_table(con, "agent.response_curves", date_column="as_of", start=day)
    assert set(summary["channel"]) == {"paid_search", "display", "paid_social", "email"}
    assert not summary["converged"].any() and summary["model_version"].str.startswith("mmm-").all()
    assert (summary["roas_lo"] <= summary["roas_hi"]).all()
    assert curves.empty  # a fit that did not converge writes no curves
    key = dg.AssetCheckKey(dg.AssetKey(["forecasts", "response_curves"]), "mmm_converged")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.passed is False and evaluation.metadata["min_ess"].value < 100
    batch = instance.get_latest_materialization_event(dg.AssetKey(["decisions", "decision_batch"]))
    assert batch is None or batch.run_id != outcome.run_id  # blocked: not decided in this run
    event = instance.get_latest_materialization_event(dg.AssetKey(["forecasts", "response_curves"]))
    metadata = event.asset_materialization.metadata
    assert "mmm_channels" in metadata
    assert metadata["response_model"].value == "mmm (response_model: auto)"


def test_the_fit_is_kept_in_the_home_by_its_version(flow_world, mmm_home) -> None:
    """The run's fit is kept under `models/mmm/<fit version>` (what the decision asset prices
    its tests on), whole: the gate's verdict read back is the summary's."""
    from marketing_ops.experiments.batch import fit_of_curves

    home, _, _ = mmm_home
    with connect(home.warehouse, read_only=True) as con:
        summary = read_table(
            con, "agent.mmm_channel_summary", date_column="as_of", start=flow_world.end
        )
    (version,) = set(summary["fit_version"])
    assert (home.models / "mmm" / f"{version}.pkl").exists()
    kept = fit_of_curves(home, version)
    assert kept is not None and kept.version == version
    assert kept.fit.diagnostics.ok is False
    assert kept.fit.diagnostics.min_ess == pytest.approx(summary["min_ess"].iloc[0])
