"""Data quality: Great Expectations suites from ``expectations/`` run on warehouse tables.

The blocking quality gates (``marketing_ops.defs.warehouse.checks``) call these; the suites
themselves are JSON files people edit.
"""

from marketing_ops.quality.gx import (
    FailedExpectation,
    ValidationOutcome,
    report_path,
    suite_for,
    validate_table,
    write_validation_report,
)

__all__ = [
    "FailedExpectation",
    "ValidationOutcome",
    "report_path",
    "suite_for",
    "validate_table",
    "write_validation_report",
]
