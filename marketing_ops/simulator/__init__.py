"""A seeded market simulator that writes real export shapes and keeps its ground truth.

The product never reads the ground truth; tests and benchmarks score decisions against it.
"""

from marketing_ops.simulator.hostile import HOSTILE_WORLDS, hostile_world, hostile_worlds
from marketing_ops.simulator.lift_studies import lift_studies
from marketing_ops.simulator.market import (
    GroundTruth,
    SimulationSummary,
    generate_history,
    load_ground_truth,
    simulate_outcomes,
    simulated_window,
)
from marketing_ops.simulator.truth import channel_contributions, response_truth
from marketing_ops.simulator.world import SEGMENTS, Hostility, ResponseShock, Shock, WorldConfig

__all__ = [
    "HOSTILE_WORLDS",
    "SEGMENTS",
    "GroundTruth",
    "Hostility",
    "ResponseShock",
    "Shock",
    "SimulationSummary",
    "WorldConfig",
    "channel_contributions",
    "generate_history",
    "hostile_world",
    "hostile_worlds",
    "lift_studies",
    "load_ground_truth",
    "response_truth",
    "simulate_outcomes",
    "simulated_window",
]
