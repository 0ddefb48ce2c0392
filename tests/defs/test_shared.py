"""The shared Dagster wiring of `defs`: pure helpers tested without a run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from marketing_ops.defs._shared import (
    PREPARE_COMMAND,
    WarehouseTranslator,
    dbt_build_args,
    read_dbt_manifest,
)


def test_missing_manifest_names_the_command_that_prepares_it(tmp_path) -> None:
    """Loading never runs dbt: without a manifest the error says which command makes one."""
    project = SimpleNamespace(manifest_path=tmp_path / "target" / "manifest.json")
    with pytest.raises(FileNotFoundError) as raised:
        read_dbt_manifest(project)
    assert str(project.manifest_path) in str(raised.value)
    assert PREPARE_COMMAND in str(raised.value)


@pytest.mark.parametrize(
    ("start", "end", "settings", "expected_vars"),
    [
        (None, None, None, {}),
        ("2026-01-05", "2026-01-07", None, {"start_date": "2026-01-05", "end_date": "2026-01-07"}),
        (None, None, {"warehouse_path": "/h/w.duckdb"}, {"warehouse_path": "/h/w.duckdb"}),
    ],
)
def test_dbt_build_args(start, end, settings, expected_vars) -> None:
    args = dbt_build_args(start, end, settings)
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == expected_vars


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
