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

No dbt node is partitioned. A ranged run logged one materialisation per asset and day: with
the daily facts partitioned the demo's two years wrote ~18,000 events (about 12 ms each on
SQLite), with every node partitioned ~24,000 before any work was done. So the dbt steps record
one event per model per run (a daily fact's carries the run's window: ``window_start``,
``window_end``), and the per-day status lives on one partitioned asset,
``warehouse/days_published``: a day is materialised there once a run built and published that
day's facts (it runs after the publish step and is skipped when any step before it fails).
Backfills select it (and the raw sources) by day, the UI shows its partitions. Within a
step, the daily facts build the run's days (incremental delete+insert over the window) and
the rest (views, identity links, dimensions, current-state marts) is rebuilt whole. A step is
one dbt invocation, so it must never be both upstream and downstream of another step
(Dagster would split it); ``dbt_layers`` keeps the layers that guarantee it
(docs/decisions.md, 2026-12-07).

Two small Python assets sit in between: the channel grouping overrides of the data home's
``measurement.yaml`` (before staging) and the Markov/Shapley attribution weights (before
publishing). Each dbt step starts dbt anew (about 3 s); that is the price of gating.
"""

import os
import shutil
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster_dbt import DbtCliResource, dbt_assets

from marketing_ops.config import DataHome
from marketing_ops.defs._shared import (
    STORE_POOL,
    StoreResource,
    daily,
    dbt_build_args,
    dbt_environment,
    dbt_layers,
    dbt_project,
    dbt_window_env,
    partition_window,
    read_dbt_manifest,
    run_window,
    translator,
)
from marketing_ops.measurement.attribution import refresh_data_driven_weights
from marketing_ops.measurement.settings import MeasurementSettings, load_measurement_settings
from marketing_ops.signals.currency import load_reporting
from marketing_ops.warehouse import replace_handoff

project = dbt_project()
# The manifest is prepared before the code location loads (the runner, `marketing-ops ui`,
# the test set-up call ensure_dbt_manifest); loading only reads it.

# dbt selections of the three steps (dbt_project.yml sets indirect selection to `buildable`,
# so a test runs in the step that builds the last relation it reads). dbt_layers splits the
# models by what they rebuild; a step builds its layers in one dbt invocation.
STAGING_SELECT = "resource_type:seed path:models/staging"
LAYERS = dbt_layers(read_dbt_manifest(project))
MODELS_SELECT = " ".join(LAYERS[k] for k in ("models_inputs", "models", "models_after"))
PUBLISH_SELECT = " ".join(LAYERS[k] for k in ("publish", "publish_current"))
# the daily facts (incremental over the run's window): their events carry the window
DAILY_MODELS = frozenset(LAYERS["models"].split()) | frozenset(LAYERS["publish"].split())

OVERRIDES_KEY = dg.AssetKey(["config", "channel_grouping_overrides"])
WEIGHTS_KEY = dg.AssetKey(["attribution", "data_driven_weights"])
PATH_COUNTS_KEY = dg.AssetKey(["intermediate", "int_journeys__path_counts"])
DAYS_KEY = dg.AssetKey(["warehouse", "days_published"])


def _settings(store: StoreResource) -> MeasurementSettings:
    return load_measurement_settings(store.home().root)


def warehouse_vars(home: DataHome) -> dict[str, Any]:
    """The data home's settings dbt reads as vars: attribution (measurement.yaml) and the
    reporting currency every amount of staging and the marts is in (reference/reporting.yaml,
    the currency ingest converted the `_reporting` columns into)."""
    attribution = load_measurement_settings(home.root).attribution.dbt_vars()
    return {**attribution, "reporting_currency": load_reporting(home.reference).currency}


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    store: StoreResource,
):
    """One dbt build of the run's window (its partition or range, read from the run's tags);
    each daily fact's event says which days it built.

    Every step of a run gets the run's window, the steps rebuilt whole too: their models are
    views and tables (``in_window`` is true outside an incremental run) and their tests read
    whole relations (the window applies to tests of daily models and of the daily sources'
    staging views only), so the window changes none of their SQL (checked by compiling each
    whole step with and without it). The window reaches dbt in the environment, not as vars:
    vars are part of dbt's parse state, and the steps share one parse (see _share_parse)."""
    # The warehouse path travels as a dbt var (profiles.yml reads it) and is the same for
    # every run of a data home, so it never invalidates the shared parse.
    settings = {**warehouse_vars(store.home()), "warehouse_path": str(store.home().warehouse)}
    window = run_window(context)
    days = (window[0].isoformat(), window[1].isoformat()) if window else (None, None)
    with dbt_environment(dbt_window_env(*days)):
        invocation = dbt.cli(dbt_build_args(settings), context=context)
    for event in invocation.stream():
        yield _with_window(event, window)
    target = Path(invocation.target_path)
    _share_parse(target)
    _prune_targets(target)


def _with_window(event, window):
    """A daily fact's event with the days the run built (all of them when the run had
    none); any other event as it is."""
    if not isinstance(event, dg.Output):
        return event
    unique_id = event.metadata.get("unique_id")
    if getattr(unique_id, "value", unique_id).rsplit(".", 1)[-1] not in DAILY_MODELS:
        return event
    start, end = (d.isoformat() for d in window) if window else ("all", "all")
    return event.with_metadata({**event.metadata, "window_start": start, "window_end": end})


def _share_parse(target_path: Path) -> None:
    """Leave this invocation's parse where dagster-dbt looks for one to reuse.

    dagster-dbt gives each dbt call its own target folder, seeded with the project's
    `partial_parse.msgpack`. That one comes from `dbt parse` without the data home's vars
    and warehouse path, so dbt re-parsed the whole project (about 4-8 s) in each of a run's
    steps. Each step leaves its parse for the next ones and the next runs, which share its
    vars and profile (the same data home; the window is not a var, see _build); dbt checks
    both before reusing it, so a stale file only costs a full parse.
    """
    produced = target_path / "partial_parse.msgpack"
    if not produced.is_file():
        return
    shared = Path(project.project_dir) / "target" / "partial_parse.msgpack"
    staging = shared.with_name(f".partial_parse.{os.getpid()}.msgpack")
    shutil.copyfile(produced, staging)
    os.replace(staging, shared)  # atomic: a concurrent run reads the old or the new file


def _prune_targets(target: Path, keep: int = 3, min_age_s: float = 3600.0) -> None:
    """Remove this step's older dbt target folders (dbt.log, compiled SQL, artefacts: 3-5 MB
    each, one per step per run: gigabytes a year of daily runs). The newest ``keep`` stay for
    a person to read, and so does any folder younger than ``min_age_s`` (a concurrent run of
    the same step may still be writing it). Only a step that succeeded prunes."""
    step = target.name.rsplit("-", 2)[0]
    aged = []
    for p in target.parent.iterdir():
        if p != target and p.is_dir() and p.name.rsplit("-", 2)[0] == step:
            try:
                aged.append((p.stat().st_mtime, p))
            except FileNotFoundError:  # pruned by a concurrent run
                continue
    aged.sort(reverse=True)
    now = time.time()
    for mtime, old in aged[keep:]:
        if now - mtime > min_age_s:
            shutil.rmtree(old, ignore_errors=True)


_dbt_step = dict(
    manifest=project.manifest_path,
    project=project,
    dagster_dbt_translator=translator(),
    pool=STORE_POOL,
)
_daily = dict(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())


@dbt_assets(select=STAGING_SELECT, name="warehouse_staging", **_dbt_step)
def warehouse_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """Seeds and staging views (renamed, typed; no data of their own); gated by the raw
    tables' suites."""
    yield from _build(context, dbt, store)


@dbt_assets(select=MODELS_SELECT, name="warehouse_models", **_dbt_step)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """Intermediate models and the marts that read no audited rows, gated by the staging
    views' suites: the daily facts for the run's days (incremental delete+insert), among them
    the audit tables; the rest (identity links, dimensions, journey path counts) whole."""
    yield from _build(context, dbt, store)


@dbt_assets(select=PUBLISH_SELECT, name="warehouse_publish", **_dbt_step)
def warehouse_publish(context: dg.AssetExecutionContext, dbt: DbtCliResource, store: StoreResource):
    """The marts decisions read from audited rows and the attribution mart, published only
    after the `marts.*` suites passed on the audit tables: the daily ones for the run's days,
    the current-state ones (engagement per audience and asset) whole."""
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
        refresh = refresh_data_driven_weights(con, start, end, training_days)
    return dg.MaterializeResult(
        metadata={
            "weight_rows": refresh.rows,
            "channel_sets": refresh.channel_sets,
            "training_days": training_days,
            "removal_effects_last_day": dg.MetadataValue.json(refresh.last_day_effects),
        }
    )


@dg.asset(
    key=DAYS_KEY,
    group_name="warehouse",
    deps=warehouse_publish.keys,
    **_daily,
    kinds={"dbt"},
)
def days_published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The days whose daily facts are built and published: one partition per day of each run
    that got through every warehouse step and gate (the dbt facts themselves record one event
    per run, with its window). What a backfill selects by day."""
    start, end = partition_window(context)
    return dg.MaterializeResult(metadata={"window_start": str(start), "window_end": str(end)})


defs = dg.Definitions(
    assets=[
        channel_grouping_overrides,
        warehouse_staging,
        warehouse_models,
        data_driven_attribution_weights,
        warehouse_publish,
        days_published,
    ]
)
