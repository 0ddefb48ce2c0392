"""The decision asset's incrementality tests: the media mix model's posterior, then the pure
:func:`marketing_ops.experiments.batch.batch_tests`.

Only with ``testing.enabled`` and ``response_model: mmm`` (forecasting.yaml). The posterior is
the product's own fit (:func:`forecasting.mmm.kpis.fit_channel_kpis`, the settings and seed
the response curves use, calibrated on ``settings/experiments.csv``), recorded on the decision
ledger once per fit version so ``explain`` shows its diagnostics. A fit that did not converge
proposes nothing (the same rule as the curves' blocking check).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from marketing_ops.decisioning import DECISION_COLUMNS, AutonomyState, PolicySet
from marketing_ops.defs._shared import StoreResource

__all__ = ["EXPERIMENTS_FILE", "proposed_tests"]

EXPERIMENTS_FILE = "experiments.csv"  # the same file the response curves calibrate on
ALL = "*"


def proposed_tests(
    store: StoreResource,
    day: date,
    kpis: pd.DataFrame,
    policies: PolicySet,
    autonomy: AutonomyState,
    batch: pd.DataFrame,
    earlier: pd.DataFrame,
    signals: list[dict],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """(test rows to add to ``batch``, why each channel got none)."""
    empty = pd.DataFrame(columns=DECISION_COLUMNS)
    if not policies.testing.enabled:
        return empty, {}
    from marketing_ops.forecasting import load_forecast_settings

    home = store.home()
    settings = load_forecast_settings(home.settings / "forecasting.yaml")
    if settings.response_model != "mmm":
        return empty, {
            ALL: "tests are priced on the media mix model's posterior: set response_model: mmm "
            "in forecasting.yaml"
        }
    # jax/numpyro load only when tests are on (every Dagster process imports this module)
    from marketing_ops.decisioning import record_model_fit
    from marketing_ops.experiments.batch import batch_tests
    from marketing_ops.forecasting.mmm import read_experiments
    from marketing_ops.forecasting.mmm.kpis import (
        FIT_TAG,
        fit_channel_kpis,
        fit_record,
        mmm_model_version,
        verdict_records,
    )

    path = home.settings / EXPERIMENTS_FILE
    result = fit_channel_kpis(kpis, settings, read_experiments(path) if path.exists() else [])
    if result is None:
        return empty, {ALL: "not enough KPI history for the media mix model"}
    version = mmm_model_version(settings)
    versions = {s["name"]: s["data_version"] for s in signals}
    record_model_fit(home, fit_record(result, day, version, versions), verdict_records(result))
    diagnostics = result.fit.diagnostics
    if not diagnostics.ok:
        return empty, {
            ALL: f"the media mix model did not converge ({diagnostics.as_dict()}): no test is "
            "priced on it"
        }
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
    )
