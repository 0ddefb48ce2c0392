"""Media mix model of the total KPI: base + controls + adstocked, saturating media, calibrated by
experiments, fitted with NUTS (numpyro) and gated on its convergence diagnostics.

No Dagster here: the asset and the CLI command call these functions.
"""

from marketing_ops.forecasting.mmm.budget import ResponseDraws, budget_plan, plan_response_draws
from marketing_ops.forecasting.mmm.byod import (
    MMMResult,
    fit_csv,
    load_csv,
    mmm_fit_command,
    summarise,
)
from marketing_ops.forecasting.mmm.calibration import (
    Experiment,
    ExperimentVerdict,
    QualityRules,
    calibrated_fit,
    check_experiments,
    experiment_arrays,
    read_experiments,
)
from marketing_ops.forecasting.mmm.compile_cache import use_compile_cache
from marketing_ops.forecasting.mmm.data import MMMData, mmm_data
from marketing_ops.forecasting.mmm.diagnostics import FitDiagnostics, Thresholds
from marketing_ops.forecasting.mmm.fit import MMMFit, SamplerSettings, fit_mmm
from marketing_ops.forecasting.mmm.model import Priors
from marketing_ops.forecasting.mmm.posterior import (
    channel_summary,
    contribution_draws,
    contributions_over_time,
    counterfactuals,
    response_curves,
)

use_compile_cache()  # before anything compiles: JAX decides at the process's first compile

__all__ = [
    "Experiment",
    "ExperimentVerdict",
    "FitDiagnostics",
    "MMMData",
    "MMMFit",
    "MMMResult",
    "Priors",
    "QualityRules",
    "ResponseDraws",
    "SamplerSettings",
    "Thresholds",
    "budget_plan",
    "calibrated_fit",
    "channel_summary",
    "check_experiments",
    "contribution_draws",
    "contributions_over_time",
    "counterfactuals",
    "experiment_arrays",
    "fit_csv",
    "fit_mmm",
    "load_csv",
    "mmm_data",
    "mmm_fit_command",
    "plan_response_draws",
    "read_experiments",
    "response_curves",
    "summarise",
]
