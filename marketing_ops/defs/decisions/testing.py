"""The decision asset's incrementality tests: the media mix model's posterior, then the pure
:func:`marketing_ops.experiments.batch.batch_tests`.

Only with ``testing.enabled`` and the curves on the media mix model (``response_model: mmm``,
or ``auto`` on a history of ``mmm.min_history_days`` days, forecasting.yaml). The posterior is
the fit behind the day's curves, which the ``response_curves`` asset kept in the home's
``models/mmm/`` (:func:`experiments.batch.fit_of_curves`): the tests are priced on the draws
the budget lines rest on, and nothing is sampled twice. When it is not kept (pruned, or the
curves written elsewhere), the product's own fit of the day's KPIs
(:func:`forecasting.mmm.kpis.fit_channel_kpis`, the settings and seed the response curves use,
calibrated on ``settings/experiments.csv`` and the agent's own ended tests,
:func:`experiments.batch.calibrated_kpi_fit`), recorded on the decision ledger once per fit
version so ``explain`` shows its diagnostics. A fit that did not converge
proposes nothing (the same rule as the curves' blocking check). When read-outs calibrate the
fit, the same data is fitted once more without them, and the report shows ROAS per channel
before and after (:func:`marketing_ops.experiments.report.posterior_shift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from marketing_ops.decisioning import DECISION_COLUMNS, AutonomyState, PolicySet
from marketing_ops.defs._shared import StoreResource

__all__ = ["TestingOutcome", "proposed_tests"]
# experiments.batch.ALL_CHANNELS (not imported here: experiments.batch loads jax and numpyro)
ALL = "*"


@dataclass(frozen=True)
class TestingOutcome:
    tests: pd.DataFrame  # rows to add to the batch
    untested: dict[str, str]  # channel (or * for all) -> why no test
    posterior: str = ""  # Markdown: ROAS per channel before / after calibration ('' if none)


def calibration_shift(result) -> str:
    """ROAS per channel of the same data fitted without and with the accepted read-outs
    ('' when no read-out was accepted)."""
    accepted = sorted({v.experiment.channel for v in result.verdicts if v.accepted})
    if not accepted:
        return ""
    from marketing_ops.experiments.report import posterior_shift, posterior_shift_markdown
    from marketing_ops.forecasting.mmm import channel_summary, fit_mmm

    before = fit_mmm(result.fit.data, result.fit.priors, result.sampler)
    shift = posterior_shift(channel_summary(before), channel_summary(result.fit), accepted)
    return posterior_shift_markdown(shift)


def proposed_tests(
    store: StoreResource,
    day: date,
    kpis: pd.DataFrame,
    policies: PolicySet,
    autonomy: AutonomyState,
    batch: pd.DataFrame,
    earlier: pd.DataFrame,
    signals: list[dict],
    curves_fit: str | None = None,
) -> TestingOutcome:
    """The test rows to add to ``batch``, why each channel got none, and what calibration
    changed in the posterior. ``curves_fit``: the fit version the day's curve rows name; the
    tests are priced on that posterior when the home keeps it (the same draws the budget
    lines rest on, no second sampling), else on a fit of ``kpis``."""
    empty = pd.DataFrame(columns=DECISION_COLUMNS)
    if not policies.testing.enabled:
        return TestingOutcome(empty, {})
    from marketing_ops.forecasting import (
        curves_model_of,
        kpi_history_days,
        load_forecast_settings,
    )

    home = store.home()
    settings = load_forecast_settings(home.settings / "forecasting.yaml")
    if curves_model_of(settings, kpis) != "mmm":
        why = (
            f"auto with {kpi_history_days(kpis)} days of KPI history, "
            f"under mmm.min_history_days {settings.mmm.min_history_days}"
            if settings.response_model == "auto"
            else settings.response_model
        )
        return TestingOutcome(
            empty,
            {
                ALL: "tests are priced on the media mix model's posterior; the curves are "
                f"attributed (response_model: {why}): set response_model: mmm in forecasting.yaml"
            },
        )
    # jax/numpyro load only when tests are on (every Dagster process imports this module)
    from marketing_ops.experiments.batch import (
        calibrated_kpi_fit,
        fit_of_curves,
        geo_kpis,
        propose_on_fit,
    )

    result = fit_of_curves(home, curves_fit)
    if result is None:
        versions = {s["name"]: s["data_version"] for s in signals}
        result, _ = calibrated_kpi_fit(home, kpis, settings, day, versions)
    if result is None:
        return TestingOutcome(empty, {ALL: "not enough KPI history for the media mix model"})
    geo = geo_kpis(home)  # matched-market tests when the warehouse has geos
    tests, untested = propose_on_fit(result, day, policies, batch, earlier, autonomy, settings, geo)
    if not result.fit.diagnostics.ok:
        return TestingOutcome(tests, untested)
    return TestingOutcome(tests, untested, calibration_shift(result))
