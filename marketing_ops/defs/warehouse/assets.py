"""`warehouse`: the dbt project, run through dagster-dbt.

dbt builds in three gated steps so that the blocking quality gates (``checks.py``) sit between
them and rows that fail a gate never reach a mart decisions read (write-audit-publish):

1. staging: seeds and staging views, after the gates on the raw tables.
2. models: intermediate models (among them the *audit* tables
   ``int_conversions__deduplicated`` and ``int_channel_kpis__daily``) and the marts that read
   no audited rows; after the gates on staging views.
3. publish: ``fct_conversions``, ``fct_channel_kpis_daily``, ``fct_email_engagement`` and
   ``fct_attribution_daily``, once the ``marts.*`` suites passed on the audit tables and the
   data-driven attribution weights are written.

Only the daily facts (incremental models) are partitioned; views, seeds and current-state
tables have no days and are rebuilt whole. A ranged run logs one materialisation per asset
and day: with every dbt node partitioned the demo's two years made ~24,000 events before any
work was done. So each step is split by partitioning: ``warehouse_staging`` (whole),
``warehouse_models_current`` (whole) and ``warehouse_models`` (daily), ``warehouse_publish``
(daily) and ``warehouse_publish_current`` (whole).

Two small Python assets sit in between: the channel grouping overrides of the data home's
``measurement.yaml`` (before staging) and the Markov/Shapley attribution weights (before
publishing). Each dbt step starts dbt anew (about 3 s); that is the price of gating.
"""

import json
import os
import shutil
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from marketing_ops.config import DataHome
from marketing_ops.defs.partitions import daily, partition_window
from marketing_ops.defs.resources import STORE_POOL, StoreResource, dbt_project
from marketing_ops.lib.runs import ensure_dbt_manifest
from marketing_ops.measurement.attribution import data_driven_weights, removal_effects_as_of
from marketing_ops.measurement.settings import MeasurementSettings, load_measurement_settings
from marketing_ops.signals.reporting import load_reporting
from marketing_ops.warehouse import read_table, replace_handoff

project = dbt_project()
# Under `dagster dev` a model edited since the last parse re-parses when the code location
# (re)loads; the CLI and tests prepare the manifest once in set-up. Not dagster-dbt's
# `project.prepare_if_dev()`: it runs `dbt` from PATH, which an unactivated venv (`make ui`)
# lacks, and the code location then failed to load (found by the browser test).
if os.getenv("DAGSTER_IS_DEV_CLI"):
    ensure_dbt_manifest()

# dbt selections of the three steps (dbt_project.yml sets indirect selection to `buildable`,
# so a test runs in the step that builds the last relation it reads).
STAGING_SELECT = "resource_type:seed path:models/staging"
PUBLISH_SELECT = "tag:publish"


def dbt_layers(manifest: Mapping[str, Any]) -> dict[str, str]:
    """dbt selections (model names) of the model steps, from the manifest's graph.

    Daily models are the incremental ones, plus any model between two daily ones (a view
    that reads a daily fact and feeds another): a step may not be both upstream and
    downstream of another, or Dagster splits it into several dbt invocations. The rest of
    the models step is rebuilt whole before the daily models (``models_inputs``: no daily
    ancestor) or after them (``models_after``). Publishing models (tagged ``publish``, and
    any model that reads one) split the same way."""
    models = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model" and "staging" not in n["fqn"]
    }
    parents = {
        uid: [p for p in n["depends_on"]["nodes"] if p in models] for uid, n in models.items()
    }
    children: dict[str, list[str]] = {uid: [] for uid in models}
    for uid, ps in parents.items():
        for p in ps:
            children[p].append(uid)

    def reach(start: str, edges: dict[str, list[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            uid = todo.pop()
            if uid not in seen:
                seen.add(uid)
                todo += edges[uid]
        return seen

    daily = {u for u, n in models.items() if n["config"]["materialized"] == "incremental"}
    # A model reading published rows is published with them, after the same gates.
    tagged = {u for u, n in models.items() if "publish" in n["tags"]}
    publish = tagged.union(*(reach(u, children) for u in tagged))
    layers: dict[str, list[str]] = {
        k: [] for k in ("models_inputs", "models", "models_after", "publish", "publish_current")
    }
    for uid, node in sorted(models.items()):
        after_daily = bool(reach(uid, parents) & daily)
        before_daily = bool(reach(uid, children) & daily)
        is_daily = uid in daily or (after_daily and before_daily)
        if uid in publish:
            layer = "publish" if is_daily else "publish_current"
        elif is_daily:
            layer = "models"
        else:
            layer = "models_after" if after_daily else "models_inputs"
        layers[layer].append(node["name"])
    return {k: " ".join(v) for k, v in layers.items()}


LAYERS = dbt_layers(json.loads(Path(project.manifest_path).read_text()))

OVERRIDES_KEY = dg.AssetKey(["config", "channel_grouping_overrides"])
WEIGHTS_KEY = dg.AssetKey(["attribution", "data_driven_weights"])
PATH_COUNTS_KEY = dg.AssetKey(["intermediate", "int_journeys__path_counts"])


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
    start: str | None, end: str | None, settings: Mapping[str, Any] | None = None
) -> list[str]:
    """The dbt command for one partition window (inclusive ISO dates; none for the steps
    rebuilt whole) and the measurement settings (numbers only; dbt validates them again
    before they reach SQL)."""
    window = {"start_date": start, "end_date": end} if start is not None else {}
    dbt_vars = {**window, **(settings or {})}
    return ["build", "--vars", json.dumps(dbt_vars, sort_keys=True)]


def _settings(store: StoreResource) -> MeasurementSettings:
    return load_measurement_settings(store.home().root)


def warehouse_vars(home: DataHome) -> dict[str, Any]:
    """The data home's settings dbt reads as vars: attribution (measurement.yaml) and the
    reporting currency every amount of staging and the marts is in (reference/reporting.yaml,
    the currency ingest converted the `_reporting` columns into)."""
    attribution = load_measurement_settings(home.root).attribution.dbt_vars()
    return {**attribution, "reporting_currency": load_reporting(home.reference).currency}


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    os.environ["MARKETING_OPS_WAREHOUSE"] = str(store.home().warehouse)
    settings = warehouse_vars(store.home())
    if context.has_partition_key_range:
        start, end = partition_window(context)
        args = dbt_build_args(start.isoformat(), end.isoformat(), settings)
    else:
        args = dbt_build_args(None, None, settings)
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    _share_parse(Path(invocation.target_path))


def _share_parse(target_path: Path) -> None:
    """Leave this invocation's parse where dagster-dbt looks for one to reuse.

    dagster-dbt gives each dbt call its own target folder, seeded with the project's
    `partial_parse.msgpack`. That one comes from `dbt parse` without the run's vars and
    warehouse path, so dbt re-parsed the whole project (about 8 s) in each of a run's three
    steps. The run's first step leaves its parse for the next two, which share its vars and
    profile; dbt checks both before reusing it, so a stale file only costs a full parse.
    """
    produced = target_path / "partial_parse.msgpack"
    if not produced.is_file():
        return
    shared = Path(project.project_dir) / "target" / "partial_parse.msgpack"
    staging = shared.with_name(f".partial_parse.{os.getpid()}.msgpack")
    shutil.copyfile(produced, staging)
    os.replace(staging, shared)  # atomic: a concurrent run reads the old or the new file


_dbt_step = dict(
    manifest=project.manifest_path,
    project=project,
    dagster_dbt_translator=translator,
    pool=STORE_POOL,
)
_daily = dict(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())


@dbt_assets(select=STAGING_SELECT, name="warehouse_staging", **_dbt_step)
def warehouse_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """Seeds and staging views (renamed, typed; no data of their own); gated by the raw
    tables' suites."""
    yield from _build(context, dbt, store)


@dbt_assets(select=LAYERS["models_inputs"], name="warehouse_models_inputs", **_dbt_step)
def warehouse_models_inputs(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource
):
    """Intermediate views, identity links and dimensions that read no daily fact, rebuilt
    whole; gated by the staging views' suites."""
    yield from _build(context, dbt, store)


@dbt_assets(select=LAYERS["models"], name="warehouse_models", **_dbt_step, **_daily)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """Daily facts of the run's days (incremental delete+insert), among them the audit tables
    and the marts that read no audited rows; gated by the staging views' suites."""
    yield from _build(context, dbt, store)


@dbt_assets(select=LAYERS["models_after"], name="warehouse_models_after", **_dbt_step)
def warehouse_models_after(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource
):
    """Views and current-state marts over the daily facts (journey path counts, send hours),
    rebuilt whole after them."""
    yield from _build(context, dbt, store)


@dbt_assets(select=LAYERS["publish"], name="warehouse_publish", **_dbt_step, **_daily)
def warehouse_publish(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """The daily marts decisions read from audited rows, and the attribution mart: published
    only after the `marts.*` suites passed on the audit tables."""
    yield from _build(context, dbt, store)


@dbt_assets(select=LAYERS["publish_current"], name="warehouse_publish_current", **_dbt_step)
def warehouse_publish_current(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource
):
    """Current-state marts read from audited rows (engagement per audience and asset),
    rebuilt whole after the same gates as the daily ones."""
    yield from _build(context, dbt, store)


def _rules_frame(settings: MeasurementSettings) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "position": i,
                "source_pattern": rule.source,
                "medium_pattern": rule.medium,
                "channel": rule.channel,
                "description": rule.description,
            }
            for i, rule in enumerate(settings.channel_grouping, start=1)
        ],
        columns=["position", "source_pattern", "medium_pattern", "channel", "description"],
    )


def _rules_markdown(rules: pd.DataFrame) -> str:
    if rules.empty:
        return "No overrides: the default grouping (seeds/channel_grouping.csv) applies."
    lines = ["| # | source | medium | channel |", "|---|---|---|---|"]
    lines += [
        f"| {r.position} | `{r.source_pattern}` | `{r.medium_pattern}` | {r.channel} |"
        for r in rules.itertuples()
    ]
    return "\n".join(lines)


@dg.asset(
    key=OVERRIDES_KEY,
    group_name="warehouse",
    pool=STORE_POOL,
    kinds={"duckdb"},
)
def channel_grouping_overrides(context: dg.AssetExecutionContext, store: StoreResource):
    """The channel grouping rules of the data home's measurement.yaml, tried before the
    default GA4-like rules (dbt_project/seeds/channel_grouping.csv). Validated first: a
    mistake stops the run with the file and field named."""
    settings = _settings(store)
    rules = _rules_frame(settings)
    with store.warehouse() as con:
        replace_handoff(con, "config.channel_grouping_overrides", rules)
    return dg.MaterializeResult(
        metadata={
            "override_rules": len(rules),
            "rules": dg.MetadataValue.md(_rules_markdown(rules)),
            "attribution_settings": dg.MetadataValue.json(
                settings.attribution.model_dump(mode="json")
            ),
        }
    )


@dg.asset(
    key=WEIGHTS_KEY,
    group_name="warehouse",
    deps=[PATH_COUNTS_KEY],
    partitions_def=daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=STORE_POOL,
    kinds={"python", "duckdb"},
)
def data_driven_attribution_weights(context: dg.AssetExecutionContext, store: StoreResource):
    """Markov removal-effect and Shapley shares per day and converting channel set, each day
    fitted on the journeys of its trailing training window (measurement.yaml,
    `attribution.training_days`); fct_attribution_daily turns them into credits."""
    training_days = _settings(store).attribution.training_days
    start, end = partition_window(context)
    with store.warehouse() as con:
        counts = read_table(
            con,
            "intermediate.int_journeys__path_counts",
            date_column="date_day",
            start=start - timedelta(days=training_days - 1),
            end=end,
        )
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        weights = data_driven_weights(counts, days, training_days)
        replace_handoff(con, "attribution.data_driven_weights", weights, start, end)
    effects = removal_effects_as_of(counts, end, training_days)
    return dg.MaterializeResult(
        metadata={
            "weight_rows": len(weights),
            "channel_sets": int(weights["channel_set"].nunique()) if len(weights) else 0,
            "training_days": training_days,
            "removal_effects_last_day": dg.MetadataValue.json(
                {k: round(v, 4) for k, v in sorted(effects.items())}
            ),
        }
    )


defs = dg.Definitions(
    assets=[
        channel_grouping_overrides,
        warehouse_staging,
        warehouse_models_inputs,
        warehouse_models,
        warehouse_models_after,
        data_driven_attribution_weights,
        warehouse_publish,
        warehouse_publish_current,
    ]
)
