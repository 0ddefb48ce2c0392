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


def dbt_build_args(
    start: str | None = None, end: str | None = None, upstream_layer: bool = False
) -> list[str]:
    """The dbt command: with a partition window (inclusive ISO dates) for the daily facts,
    without for the layers that are rebuilt whole.

    ``upstream_layer``: run only the tests whose every parent is in this layer
    (``cautious``). A relationship test from a daily fact to ``dim_channel`` would otherwise
    run with the layer that builds ``dim_channel``, before the fact exists; it runs with
    the fact's layer instead."""
    args = ["build"]
    if upstream_layer:
        args += ["--indirect-selection", "cautious"]
    if start is not None:
        args += ["--vars", json.dumps({"start_date": start, "end_date": end})]
    return args


# Three layers, so that only the daily facts are partitioned. A range run logs one
# materialisation per asset and day: with every dbt node partitioned the demo's 730 days made
# ~24,000 events before any work was done; views and current-state tables have no days.
# dim_channel comes from a seed and is what the daily facts' relationship tests point at,
# so it is built with the views, before them.
CURRENT_INPUTS = "resource_type:seed path:models/staging path:models/intermediate dim_channel"
DAILY_FACTS = "config.materialized:incremental"
CURRENT_STATE_EXCLUDE = f"{DAILY_FACTS} dim_channel"


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    select=CURRENT_INPUTS,
    dagster_dbt_translator=translator,
    pool=STORE_POOL,
    name="warehouse_dbt_inputs",
)
def warehouse_dbt_inputs(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource
):
    """Seeds, staging and intermediate views (renamed, typed, stitched): cheap to rebuild,
    they hold no data of their own."""
    os.environ["MARKETING_OPS_WAREHOUSE"] = str(store.home().warehouse)
    yield from dbt.cli(dbt_build_args(upstream_layer=True), context=context).stream()


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    select=DAILY_FACTS,
    partitions_def=daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=STORE_POOL,
    name="warehouse_dbt",
)
def warehouse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """The daily facts for the run's days (incremental delete+insert per day)."""
    os.environ["MARKETING_OPS_WAREHOUSE"] = str(store.home().warehouse)
    start, end = partition_window(context)
    yield from dbt.cli(dbt_build_args(start.isoformat(), end.isoformat()), context=context).stream()


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    select="path:models/marts",
    exclude=CURRENT_STATE_EXCLUDE,
    dagster_dbt_translator=translator,
    pool=STORE_POOL,
    name="warehouse_dbt_current",
)
def warehouse_dbt_current(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource
):
    """Current-state marts rebuilt whole from all history: dimensions, engagement per
    audience and asset, send hours."""
    os.environ["MARKETING_OPS_WAREHOUSE"] = str(store.home().warehouse)
    yield from dbt.cli(dbt_build_args(), context=context).stream()


defs = dg.Definitions(assets=[warehouse_dbt_inputs, warehouse_dbt, warehouse_dbt_current])
