"""The shared Dagster wiring of `defs`: pure helpers tested without a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from marketing_ops.defs._shared import (
    PREPARE_COMMAND,
    WINDOW_ENV,
    WarehouseTranslator,
    dbt_build_args,
    dbt_environment,
    dbt_window_env,
    read_dbt_manifest,
    split_window_vars,
)


def test_missing_manifest_names_the_command_that_prepares_it(tmp_path) -> None:
    """Loading never runs dbt: without a manifest the error says which command makes one."""
    project = SimpleNamespace(manifest_path=tmp_path / "target" / "manifest.json")
    with pytest.raises(FileNotFoundError) as raised:
        read_dbt_manifest(project)
    assert str(project.manifest_path) in str(raised.value)
    assert PREPARE_COMMAND in str(raised.value)


@pytest.mark.parametrize(
    ("settings", "expected_vars"),
    [(None, {}), ({"warehouse_path": "/h/w.duckdb"}, {"warehouse_path": "/h/w.duckdb"})],
)
def test_dbt_build_args(settings, expected_vars) -> None:
    args = dbt_build_args(settings)
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == expected_vars
    assert args[3:] == ["--exclude-resource-type", "unit_test"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-01-05", "2026-01-07", ("2026-01-05", "2026-01-07")),
        (None, None, ("", "")),  # set empty: an inherited window cannot stand in
    ],
)
def test_dbt_window_env(start, end, expected, monkeypatch) -> None:
    """The window as environment variables, both always set; a dbt command started inside
    dbt_environment sees them, and the process's environment is restored after it."""
    monkeypatch.setenv(WINDOW_ENV[0], "1999-01-01")
    monkeypatch.delenv(WINDOW_ENV[1], raising=False)
    env = dbt_window_env(start, end)
    assert (env[WINDOW_ENV[0]], env[WINDOW_ENV[1]]) == expected
    with dbt_environment(env):
        seen = subprocess.run(
            [sys.executable, "-c", f"import os; print(os.environ['{WINDOW_ENV[0]}'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    assert seen == expected[0]
    assert os.environ[WINDOW_ENV[0]] == "1999-01-01"
    assert WINDOW_ENV[1] not in os.environ


def test_split_window_vars_moves_the_window_to_the_environment() -> None:
    settings, env = split_window_vars(
        {"start_date": "2026-01-05", "end_date": "2026-01-07", "attribution_lookback_days": 14}
    )
    assert settings == {"attribution_lookback_days": 14}
    assert env == dbt_window_env("2026-01-05", "2026-01-07")
    assert split_window_vars({"x": 1}) == ({"x": 1}, dbt_window_env(None, None))


@pytest.mark.parametrize(
    ("props", "key"),
    [
        ({"resource_type": "model", "schema": "marts", "name": "fct_x"}, ["marts", "fct_x"]),
        ({"resource_type": "seed", "schema": "staging", "name": "map"}, ["staging", "map"]),
    ],
)
def test_translator_keys_by_schema_and_name(props, key) -> None:
    translator = WarehouseTranslator()
    assert translator.get_asset_key(props).path == key
    assert translator.get_group_name(props) == "warehouse"
