"""`warehouse`: the dbt project, run through dagster-dbt, one daily partition window per run."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from marketing_ops.defs.partitions import daily, partition_window
from marketing_ops.defs.resources import STORE_POOL, StoreResource, dbt_project

project = dbt_project()
# Acts only under `dagster dev`; the CLI and tests prepare the manifest once in set-up.
project.prepare_if_dev()


class WarehouseTranslator(DagsterDbtTranslator):
    """Keys by rule: `<schema>/<model>`; every dbt node is in the `warehouse` group.

    Sources keep the `raw/<source>` keys declared in their YAML (`meta.dagster.asset_key`).
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_build_args(start: str, end: str) -> list[str]:
    """The dbt command for one partition window (inclusive ISO dates)."""
    return ["build", "--vars", json.dumps({"start_date": start, "end_date": end})]


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    partitions_def=daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=STORE_POOL,
    name="warehouse_dbt",
)
def warehouse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """Staging, intermediate and marts for the run's days (incremental delete+insert)."""
    os.environ["MARKETING_OPS_WAREHOUSE"] = str(store.home().warehouse)
    start, end = partition_window(context)
    yield from dbt.cli(dbt_build_args(start.isoformat(), end.isoformat()), context=context).stream()


defs = dg.Definitions(assets=[warehouse_dbt])
