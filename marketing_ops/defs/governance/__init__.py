"""Dagster wiring for governance and observability: the performance report asset, freshness
checks on every signal source, and the run-failure alert sensor."""
