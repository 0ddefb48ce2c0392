"""Dagster-aware helpers shared by the CLI and tests (running jobs against an instance)."""
