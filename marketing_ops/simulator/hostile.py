"""Named market worlds that break attribution, for tests and benchmarks to bet against.

Each preset is the default world (same seed, same spend history) with one pathology, plus
one with all of them; their truth is in ``ground_truth/channel_contributions.csv`` and
``ground_truth/response.json`` (docs/contracts.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from marketing_ops.simulator.world import Hostility, ResponseShock, WorldConfig

__all__ = ["HOSTILE_WORLDS", "hostile_world", "hostile_worlds"]

OVER_CLAIM = {"paid_search": 1.4, "display": 2.5, "paid_social": 3.0}
SEARCH_CAPTURE = 0.35
LONG_CARRY = {"paid_social": 0.9}  # half-life ~6.6 days (default ~0.4: under a day)
SATURATED = {"paid_search": 0.12}  # usual spend ~10x past half saturation (default ~1.3x)
SHOCKED = "paid_social"
SHOCK_FACTOR = 0.5

HOSTILE_WORLDS = (
    "over_claiming_platforms",
    "search_takes_last_click",
    "long_carry_over",
    "saturated_channel",
    "response_shock",
    "all_at_once",
)


def hostile_worlds(
    seed: int = 7,
    start: date = date(2024, 11, 24),
    days: int = 730,
    contacts: int = 2500,
    traffic_scale: float = 0.02,
) -> dict[str, WorldConfig]:
    """The hostile presets by name; the response shock falls mid-history (day ``days // 2``)."""
    base = WorldConfig(
        seed=seed, start=start, days=days, contacts=contacts, traffic_scale=traffic_scale
    )
    shock = ResponseShock(SHOCKED, day=days // 2, factor=SHOCK_FACTOR)
    hostility = {
        "over_claiming_platforms": Hostility(over_claim=OVER_CLAIM),
        "search_takes_last_click": Hostility(search_capture=SEARCH_CAPTURE),
        "long_carry_over": Hostility(decay=LONG_CARRY),
        "saturated_channel": Hostility(saturation=SATURATED),
        "response_shock": Hostility(response_shock=shock),
        "all_at_once": Hostility(
            over_claim=OVER_CLAIM,
            search_capture=SEARCH_CAPTURE,
            decay=LONG_CARRY,
            saturation=SATURATED,
            response_shock=shock,
        ),
    }
    return {name: replace(base, hostility=hostility[name]) for name in HOSTILE_WORLDS}


def hostile_world(name: str, **world) -> WorldConfig:
    """One preset by name (``world``: the arguments of :func:`hostile_worlds`)."""
    if name not in HOSTILE_WORLDS:
        raise ValueError(f"no hostile world {name!r}; expected one of {', '.join(HOSTILE_WORLDS)}")
    return hostile_worlds(**world)[name]
