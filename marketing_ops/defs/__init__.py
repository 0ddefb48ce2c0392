"""Dagster wiring: one sub-package per stage of DESIGN.md, thin shells around the core."""
