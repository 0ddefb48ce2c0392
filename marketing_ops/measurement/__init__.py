"""Measurement: outcomes joined back to decision ids, and how wrong the forecasts were."""

from marketing_ops.measurement.outcomes import (
    FORECAST_ERROR_COLUMNS,
    OUTCOME_COLUMNS,
    decision_outcomes,
    forecast_error,
)

__all__ = ["FORECAST_ERROR_COLUMNS", "OUTCOME_COLUMNS", "decision_outcomes", "forecast_error"]
