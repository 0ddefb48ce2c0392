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
        (LoopConfig(history_days=100, world="response_shock", geos=8), None, ("paid_social", 50)),
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
    assert world.geos == cfg.geos  # the market's regions (simulate-loop --geos)


def test_an_unknown_world_is_named_with_the_choices() -> None:
    with pytest.raises(ValueError, match="all_at_once"):
        world_config(LoopConfig(world="kind_world"), START)


def test_simulate_loop_names_the_hostile_worlds_and_refuses_another_before_touching_the_home(
    tmp_path,
) -> None:
    """`simulate-loop --world` lists every preset in its help, and an unknown name is refused
    with the choices before the loop empties its home (a previous world there survives)."""
    from typer.testing import CliRunner

    from marketing_ops.cli import app
    from marketing_ops.simulator import HOSTILE_WORLDS

    runner = CliRunner()
    helped = runner.invoke(app, ["simulate-loop", "--help"], env={"COLUMNS": "250"})
    assert helped.exit_code == 0
    assert all(name in " ".join(helped.output.split()) for name in HOSTILE_WORLDS)
    home = tmp_path / "loop"
    (home / "ground_truth").mkdir(parents=True)
    (home / "ground_truth" / "world.json").write_text("{}")
    out = runner.invoke(
        app, ["simulate-loop", "--world", "nope", "--home", str(home)], env={"COLUMNS": "250"}
    )
    assert out.exit_code == 2
    assert "no hostile world 'nope'" in " ".join(out.output.split())
    assert "all_at_once" in out.output
    assert (home / "ground_truth" / "world.json").exists()
    too_many = runner.invoke(
        app, ["simulate-loop", "--geos", "21", "--home", str(home)], env={"COLUMNS": "250"}
    )
    assert too_many.exit_code == 2 and "--geos" in " ".join(too_many.output.split())
    assert (home / "ground_truth" / "world.json").exists()
