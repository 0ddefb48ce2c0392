"""The market a closed loop runs on: the demo world of its seed, a cost shock planted at the
loop's start, or a hostile preset of the simulator."""

from __future__ import annotations

from datetime import date

import pytest

from marketing_ops.closed_loop import LoopConfig, world_config

START = date(2025, 1, 1)


@pytest.mark.parametrize(
    ("cfg", "shock", "hostile"),
    [
        (LoopConfig(history_days=100), None, None),
        (LoopConfig(history_days=100, shock_channel="display"), ("display", 100), None),
        (LoopConfig(history_days=100, world="response_shock"), None, ("paid_social", 50)),
    ],
)
def test_world_config(cfg: LoopConfig, shock, hostile) -> None:
    """History length and seed come from the loop; a cost shock starts with the loop; a
    hostile preset's response shock falls mid-history."""
    world = world_config(cfg, START)
    assert (world.start, world.days, world.seed) == (START, 100, cfg.seed)
    planted = world.shock
    assert ((planted.channel, planted.day) if planted else None) == shock
    response = world.hostility.response_shock if world.hostility else None
    assert ((response.channel, response.day) if response else None) == hostile


def test_an_unknown_world_is_named_with_the_choices() -> None:
    with pytest.raises(ValueError, match="all_at_once"):
        world_config(LoopConfig(world="kind_world"), START)
