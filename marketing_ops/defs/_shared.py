"""Dagster wiring every stage of ``defs`` shares; private to ``defs`` (the core never sees it).

- **Partitions**: a partition is the day the data describes, and for the decision stages the
  day a decision is made *as of*.
- **Resources**: which resources exist and where they point; the one place that decides the
  environment. Nothing is read from the environment at import time: the data home and secrets
  are resolved when a run asks for them.
- **Lineage**: data versions of an asset's inputs, read from the instance.
- **dbt**: the manifest (prepared before the code location loads, never at import), the
  rule-based translator, the model steps derived from the manifest's graph, and the build
  command of a partition window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)
from dagster_shared.utils import environ

from marketing_ops.config import DBT_PROJECT_DIR, HISTORY_START, DataHome, data_home
from marketing_ops.warehouse import connect

# --------------------------------------------------------------------------- partitions

# The first day the project can hold (config.HISTORY_START): signals before it are refused by
# the partitioning. end_offset=1 lets today's partition exist, so a closed loop can decide for
# today.
daily = dg.DailyPartitionsDefinition(start_date=HISTORY_START.isoformat(), end_offset=1)


def partition_window(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[date, date]:
    """The inclusive first and last day of the run's partition or partition range."""
    op_context = getattr(context, "op_execution_context", context)
    window = op_context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def run_window(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[date, date] | None:
    """The run's days as seen from an unpartitioned asset or check (a staging view, its
    gate) that runs beside partitioned ones: the partition or range in the run's tags, or
    None when the run has no days (the whole relation is meant)."""
    op_context = getattr(context, "op_execution_context", context)
    if op_context.has_partition_key_range:
        return partition_window(context)
    tags = op_context.run.tags
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not start or not end:
        return None
    return date.fromisoformat(start), date.fromisoformat(end)


def as_of(context: dg.AssetExecutionContext) -> date:
    """Decisions are made as of the last day of the run's window."""
    return partition_window(context)[1]


# --------------------------------------------------------------------------- resources
# Every step that opens the DuckDB file (and so also the Kuzu graph, which only such steps
# touch) runs in this pool; dagster.yaml limits each pool to one step at a time, across runs.
STORE_POOL = "duckdb"

DEMO_ENV = "MARKETING_OPS_DEMO"


class StoreResource(dg.ConfigurableResource):
    """The data home and the warehouse inside it."""

    home_root: str | None = None

    def home(self) -> DataHome:
        return data_home(self.home_root).ensure()

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.home().warehouse) as con:
            yield con

    def demo_mode(self) -> bool:
        return os.environ.get(DEMO_ENV, "") == "1"

    def pii_key(self) -> bytes:
        from marketing_ops.signals.privacy import pii_key

        return pii_key(demo=self.demo_mode())


WEBHOOK_URL_ENV = "MARKETING_OPS_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "MARKETING_OPS_WEBHOOK_SECRET"


class ConnectorsResource(dg.ConfigurableResource):
    """Which connector serves which channel.

    The sandbox outbox serves every channel by default. When the webhook URL is set (config,
    or ``$MARKETING_OPS_WEBHOOK_URL``), the channels in ``webhook_channels`` (``*`` = all)
    post to it instead, signed with ``$MARKETING_OPS_WEBHOOK_SECRET``. Both are read through
    ``EnvVar`` when a run asks for the connectors, never at import, and the secret never
    appears in run config or the UI. ``dry_run`` makes execution say what it would send.
    """

    webhook_url: str | None = None
    webhook_channels: list[str] = ["*"]
    webhook_url_env: str = WEBHOOK_URL_ENV
    webhook_secret_env: str = WEBHOOK_SECRET_ENV
    dry_run: bool = False

    def url(self) -> str | None:
        return self.webhook_url or dg.EnvVar(self.webhook_url_env).get_value() or None

    def connectors(self, home: DataHome) -> dict:
        from marketing_ops.execution import channel_connectors

        url = self.url()
        secret = dg.EnvVar(self.webhook_secret_env).get_value() if url else None
        return channel_connectors(
            home, url, secret, self.webhook_channels, secret_env=self.webhook_secret_env
        )


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt next to this interpreter: the venv need not be activated (STACK_NOTES)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def resources() -> dict[str, object]:
    return {
        "store": StoreResource(),
        "connectors": ConnectorsResource(),
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }


# --------------------------------------------------------------------------- lineage
DATA_VERSION_TAG = "dagster/data_version"


def input_versions(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> list[dict[str, str]]:
    """[{name, data_version, run_id}] for the latest materialisation of each key."""
    out = []
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        mat = event.asset_materialization if event else None
        out.append(
            {
                "name": key.to_user_string(),
                "data_version": (mat.tags or {}).get(DATA_VERSION_TAG, "unknown")
                if mat
                else "missing",
                "run_id": event.run_id if event else "",
            }
        )
    return out


INPUT_POINTER_PREFIX = "dagster/input_event_pointer/"


def upstream_lineage(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> list[dict]:
    """Every materialisation upstream of ``keys``, found by following the input event
    pointers Dagster records on each materialisation (so it names the exact upstream event a
    step read, not merely the latest one): [{asset, data_version, run_id, partition,
    storage_id, inputs: {upstream asset: data version}}], one per asset event reached."""
    frontier: list[tuple[dg.AssetKey, int | None]] = [(k, None) for k in keys]
    seen: set[tuple[str, int | None]] = set()
    nodes: list[dict] = []
    while frontier:
        key, storage_id = frontier.pop()
        records_filter = (
            key if storage_id is None else dg.AssetRecordsFilter(key, storage_ids=[storage_id])
        )
        records = instance.fetch_materializations(records_filter, limit=1).records
        if not records:
            nodes.append({"asset": key.to_user_string(), "data_version": "missing"})
            continue
        record = records[0]
        marker = (key.to_user_string(), record.storage_id)
        if marker in seen:
            continue
        seen.add(marker)
        mat = record.asset_materialization
        tags = (mat.tags if mat else None) or {}
        inputs = {}
        for tag, value in tags.items():
            if tag.startswith(INPUT_POINTER_PREFIX):
                parent = tag[len(INPUT_POINTER_PREFIX) :]
                inputs[parent] = tags.get(f"dagster/input_data_version/{parent}", "unknown")
                if value.isdigit():  # "NULL": read before this instance recorded it
                    frontier.append((dg.AssetKey.from_user_string(parent), int(value)))
        nodes.append(
            {
                "asset": key.to_user_string(),
                "data_version": tags.get(DATA_VERSION_TAG, "unknown"),
                "run_id": record.run_id,
                "partition": mat.partition if mat else None,
                "storage_id": record.storage_id,
                "inputs": dict(sorted(inputs.items())),
            }
        )
    return sorted(nodes, key=lambda n: (n["asset"], n.get("storage_id") or 0))


# --------------------------------------------------------------------------- dbt
PREPARE_COMMAND = (
    "marketing-ops ui (or: dbt parse --project-dir dbt_project --profiles-dir dbt_project)"
)


def _dbt_sources() -> list[Path]:
    return [
        p
        for sub in ("models", "macros", "seeds", "tests")
        for p in (DBT_PROJECT_DIR / sub).rglob("*")
        if p.is_file()
    ] + [DBT_PROJECT_DIR / "dbt_project.yml"]


def ensure_dbt_manifest(force: bool = False) -> Path:
    """`dbt parse` once, when the manifest is missing or older than any model file.

    dagster-dbt needs the manifest when the code location loads (STACK_NOTES); parsing at
    import would cost seconds on every load, so whoever starts Dagster (the runner, `marketing-ops
    ui`, the test set-up) calls this first.
    """
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    newest = max((p.stat().st_mtime for p in _dbt_sources()), default=0.0)
    if force or not manifest.exists() or manifest.stat().st_mtime < newest:
        env = dict(os.environ)
        env.setdefault("MARKETING_OPS_WAREHOUSE", str(DBT_PROJECT_DIR / "target" / "parse.duckdb"))
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            check=True,
            env=env,
        )
    return manifest


def read_dbt_manifest(project: DbtProject) -> dict[str, Any]:
    """The parsed manifest the code location is built from; a clear error when set-up has not
    prepared it (loading never runs dbt itself)."""
    path = Path(project.manifest_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"dbt manifest {path} is missing: the code location is built from it. "
            f"Prepare it before loading: {PREPARE_COMMAND}"
        )
    return json.loads(path.read_text())


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


def translator() -> WarehouseTranslator:
    return WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


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

    daily_models = {u for u, n in models.items() if n["config"]["materialized"] == "incremental"}
    # A model reading published rows is published with them, after the same gates.
    tagged = {u for u, n in models.items() if "publish" in n["tags"]}
    publish = tagged.union(*(reach(u, children) for u in tagged))
    layers: dict[str, list[str]] = {
        k: [] for k in ("models_inputs", "models", "models_after", "publish", "publish_current")
    }
    for uid, node in sorted(models.items()):
        after_daily = bool(reach(uid, parents) & daily_models)
        before_daily = bool(reach(uid, children) & daily_models)
        is_daily = uid in daily_models or (after_daily and before_daily)
        if uid in publish:
            layer = "publish" if is_daily else "publish_current"
        elif is_daily:
            layer = "models"
        else:
            layer = "models_after" if after_daily else "models_inputs"
        layers[layer].append(node["name"])
    return {k: " ".join(v) for k, v in layers.items()}


# What leaves dbt's unit tests out of a run (dbt_build_args says why); the test builds that
# stand in for a run pass it too.
SKIP_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def dbt_build_args(settings: Mapping[str, Any] | None = None) -> list[str]:
    """The dbt command of a run: the data home's settings as vars (numbers and names; dbt
    validates them again before they reach SQL). The run's window is not among them: it
    travels in the environment (:func:`dbt_window_env`).

    dbt's unit tests (fixed rows in, fixed rows out) test the SQL, not the day's data, so the
    runs leave them out, as dbt advises for production: they were a quarter of the dbt node
    time of a small world's day. `make test` runs them (tests/warehouse: built_warehouse and
    the PostgreSQL build)."""
    return ["build", "--vars", json.dumps(dict(settings or {}), sort_keys=True), *SKIP_UNIT_TESTS]


# The environment variables dbt reads the run's window from (macros/incremental_window.sql).
WINDOW_ENV = ("MARKETING_OPS_WINDOW_START_DATE", "MARKETING_OPS_WINDOW_END_DATE")
_DBT_ENV = threading.Lock()


def dbt_window_env(start: str | None, end: str | None) -> dict[str, str]:
    """The window (inclusive ISO dates; none: every day) as the environment of a dbt command.
    Both are always set, empty for no window, so that nothing inherited stands in for them.

    Not vars: vars are part of dbt's parse state, and a new window each day as vars made the
    first dbt step of every run re-parse the whole project (7.1 s against 3.1 s for `dbt
    parse`); the macros read the environment at execution only."""
    return {WINDOW_ENV[0]: start or "", WINDOW_ENV[1]: end or ""}


def split_window_vars(dbt_vars: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """dbt vars as a person writes them (``start_date`` / ``end_date`` among the settings)
    split the way the runs pass them: the other vars, and the window as environment
    (:func:`dbt_window_env`). For the callers that take vars: benchmarks and test builds."""
    settings = {k: v for k, v in dbt_vars.items() if k not in ("start_date", "end_date")}
    return settings, dbt_window_env(dbt_vars.get("start_date"), dbt_vars.get("end_date"))


@contextmanager
def dbt_environment(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` in this process's environment while a dbt command starts (dagster-dbt hands
    the subprocess a copy of it; its maintainers' advice for per-call variables), one command
    at a time, then restored."""
    with _DBT_ENV, environ(dict(env)):
        yield
