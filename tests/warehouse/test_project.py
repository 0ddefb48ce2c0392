"""The dbt project's layout rules, read from the manifest of the shared build: a `.yml`
beside each model, incremental keys at the grain their tests check, unit tests on every
mart with logic of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# Marts that only publish another model's rows for the window (their logic, and its unit
# tests, live in the model they select from) or copy a seed.
PASS_THROUGH_MARTS = {
    "dim_channel",
    "fct_ad_spend_daily",
    "fct_channel_kpis_daily",
    "fct_conversions",
    "fct_journeys",
    "fct_touchpoints",
}


@pytest.fixture(scope="module")
def manifest(built_warehouse) -> dict:
    return json.loads((built_warehouse.work / "target" / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def _grain(manifest: dict, model_id: str) -> set[frozenset[str]]:
    """Column sets the model's tests prove unique: `unique` on a column, or
    `unique_combination_of_columns`."""
    grains = set()
    for node in manifest["nodes"].values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or node.get("attached_node") != model_id:
            continue
        if test.get("name") == "unique":
            grains.add(frozenset([node["column_name"]]))
        elif test.get("name") == "unique_combination_of_columns":
            grains.add(frozenset(test["kwargs"]["combination_of_columns"]))
    return grains


def test_every_model_has_its_yml_beside_it(manifest) -> None:
    """models/<layer>/<name>.sql is described in models/<layer>/<name>.yml, not a layer file."""
    misplaced = {
        name: node["patch_path"]
        for name, node in _models(manifest).items()
        if (node["patch_path"] or "").split("://")[-1]
        != str(Path(node["original_file_path"]).with_suffix(".yml"))
    }
    assert misplaced == {}


def test_incremental_keys_are_the_tested_grain(manifest) -> None:
    """delete+insert replaces rows by `unique_key`: it must be the grain a test checks, or a
    re-run could keep two rows of one key (or replace rows of another). An append model
    (the journey models) must clear its window before it appends, and have a tested grain."""
    mismatched = {}
    for name, node in _models(manifest).items():
        if node["config"]["materialized"] != "incremental":
            continue
        if node["config"]["incremental_strategy"] == "append":
            hooks = " ".join(hook["sql"] for hook in node["config"]["pre-hook"])
            if "clear_window" not in hooks or not _grain(manifest, node["unique_id"]):
                mismatched[name] = ("append", hooks)
            continue
        key = node["config"]["unique_key"]
        key = frozenset([key] if isinstance(key, str) else key)
        if key not in _grain(manifest, node["unique_id"]):
            mismatched[name] = (
                sorted(key),
                [sorted(g) for g in _grain(manifest, node["unique_id"])],
            )
    assert mismatched == {}


def test_every_mart_with_logic_has_a_unit_test(manifest) -> None:
    """dbt `unit_tests:` (given rows, expected rows) cover each mart that computes anything."""
    tested = {test["model"] for test in manifest["unit_tests"].values()}
    marts = {name for name, node in _models(manifest).items() if node["fqn"][1] == "marts"}
    assert PASS_THROUGH_MARTS <= marts
    assert sorted(marts - PASS_THROUGH_MARTS - tested) == []
    assert "int_journeys__path_counts" in tested


def test_every_unit_test_runs_and_passes_in_the_shared_build(built_warehouse, manifest) -> None:
    """The product's runs leave dbt's unit tests out (defs._shared.dbt_build_args); the shared
    build runs every one of them, and each passed."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", built_warehouse.log)  # dbt's colours
    ran = re.findall(r" of \d+ PASS (\S+)", log)
    unit_tests = {t["name"] for t in manifest["unit_tests"].values()}
    assert len(unit_tests) >= 14
    assert unit_tests <= {name.rsplit("::", 1)[-1] for name in ran}
