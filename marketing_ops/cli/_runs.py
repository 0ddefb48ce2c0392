"""The CLI's one door to Dagster: the run helpers of :mod:`marketing_ops.runner`. Nothing else
in the CLI imports Dagster or ``marketing_ops.defs``."""

from marketing_ops.runner import (
    ensure_dbt_manifest,
    prepare_instance,
    progress_view,
    run_window,
)

__all__ = ["ensure_dbt_manifest", "prepare_instance", "progress_view", "run_window"]
