"""The CLI's one door to Dagster: the run helpers. Nothing else in the CLI imports Dagster
or ``marketing_ops.defs``; when the run helpers move, this line is the one to change."""

from marketing_ops.lib.runs import ensure_dbt_manifest, prepare_instance, run_window

__all__ = ["ensure_dbt_manifest", "prepare_instance", "run_window"]
