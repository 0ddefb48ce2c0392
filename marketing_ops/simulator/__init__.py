"""A seeded market simulator that writes real export shapes and keeps its ground truth.

The product never reads the ground truth; tests and benchmarks score decisions against it.
"""

from marketing_ops.simulator.market import (
    GroundTruth,
    SimulationSummary,
    generate_history,
    load_ground_truth,
    simulate_outcomes,
    simulated_window,
)
from marketing_ops.simulator.world import SEGMENTS, Shock, WorldConfig

__all__ = [
    "SEGMENTS",
    "GroundTruth",
    "Shock",
    "SimulationSummary",
    "WorldConfig",
    "generate_history",
    "load_ground_truth",
    "simulate_outcomes",
    "simulated_window",
]
