"""`marketing-ops forecasts`: budget arguments and settings errors in plain words."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.cli.forecasts import parse_budget


def test_budget_items_become_amounts() -> None:
    assert parse_budget(["display=4000", " email = 20.5"]) == {"display": 4000.0, "email": 20.5}


@pytest.mark.parametrize("item", ["display", "=40", "display=lots"])
def test_bad_budget_items_name_themselves(item) -> None:
    with pytest.raises(typer.BadParameter, match="expected CHANNEL=EUR"):
        parse_budget([item])


def test_settings_command_reports_a_bad_file(tmp_path) -> None:
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "forecasting.yaml").write_text("forecasting:\n  workers: 0\n")
    result = CliRunner().invoke(app, ["forecasts", "settings", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "forecasting.workers" in result.output


def test_plan_needs_a_warehouse(tmp_path) -> None:
    result = CliRunner().invoke(app, ["forecasts", "plan", "--home", str(tmp_path)])
    assert result.exit_code != 0 and "no warehouse" in result.output
