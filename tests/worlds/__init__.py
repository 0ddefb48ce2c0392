"""The shared test worlds, one builder per domain: `decisions` (a typed decision world small
enough to reason about by hand) and `markets` (simulated markets, loaded and modelled)."""
