"""Incrementality experiments the agent designs, values, runs under policy and reads out.

Pure functions, no Dagster: :mod:`.power` (power and minimum duration), :mod:`.designs`
(geo holdout and spend-up on matched markets, audience holdout, spend pulses and spend-up
pulses, contamination guard),
:mod:`.value` (expected value of sample information from the media mix model's posterior,
net of the test's cost) and :mod:`.readout` (estimate with interval, quality, calibration rows).
"""

from marketing_ops.experiments.designs import (
    NATIONAL,
    Design,
    audience_holdout,
    contamination,
    geo_holdout,
    geo_spend_up,
    match_markets,
    refuse_contaminated,
    spend_pulse,
    spend_up_pulse,
)
from marketing_ops.experiments.power import (
    audience_standard_error,
    did_standard_error,
    minimum_detectable_effect,
    minimum_periods,
    power,
    power_curve,
)
from marketing_ops.experiments.readout import (
    Readout,
    ReadoutRules,
    audience_readout,
    calibration_input,
    experiment_rows,
    geo_readout,
    geo_tail_readout,
    pulse_readout,
    to_experiment,
)
from marketing_ops.experiments.value import (
    InformationValue,
    current_spend,
    evpi,
    evsi,
    holdout_lift_draws,
    lift_draws,
    profit_draws,
    value_of_test,
)

__all__ = [
    "NATIONAL",
    "Design",
    "InformationValue",
    "Readout",
    "ReadoutRules",
    "audience_holdout",
    "audience_readout",
    "audience_standard_error",
    "calibration_input",
    "contamination",
    "current_spend",
    "did_standard_error",
    "evpi",
    "evsi",
    "experiment_rows",
    "geo_holdout",
    "geo_readout",
    "geo_tail_readout",
    "geo_spend_up",
    "holdout_lift_draws",
    "lift_draws",
    "match_markets",
    "minimum_detectable_effect",
    "minimum_periods",
    "power",
    "power_curve",
    "profit_draws",
    "pulse_readout",
    "refuse_contaminated",
    "spend_pulse",
    "spend_up_pulse",
    "to_experiment",
    "value_of_test",
]
