"""`dbt docs generate` on the built warehouse (through `marketing-ops warehouse docs`), the
attribution table people read, and the Dagster wiring of the three dbt steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.cli.warehouse import METHODS, attribution_summary
from marketing_ops.config import data_home


def test_dbt_docs_generate_documents_every_layer(built_warehouse, tmp_path) -> None:
    """The docs site is written to the data home; its catalog has every layer's relations
    and the manifest carries the YAML descriptions of the new marts' columns."""
    home = data_home(tmp_path / "home").ensure()
    shutil.copyfile(built_warehouse.db, home.warehouse)
    result = CliRunner().invoke(app, ["warehouse", "docs", "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    site = home.reports / "dbt_docs"
    assert (site / "index.html").is_file()
    catalog = json.loads((site / "catalog.json").read_text())
    relations = {
        node["metadata"]["schema"] + "." + node["metadata"]["name"]
        for node in catalog["nodes"].values()
    }
    assert {
        "staging.stg_ga4__events",
        "intermediate.int_identity__links",
        "intermediate.int_journeys__touchpoints",
        "marts.fct_touchpoints",
        "marts.fct_journeys",
        "marts.fct_attribution_daily",
    } <= relations
    manifest = json.loads((site / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    undocumented = [name for name, node in models.items() if not node["description"].strip()]
    assert undocumented == []
    assert "Markov" in models["fct_attribution_daily"]["columns"]["markov"]["description"]


def test_attribution_summary_puts_methods_beside_claims() -> None:
    """Per channel: each method's credits, the own-channel count, the platforms' claims."""
    mart = pd.DataFrame(
        {
            "channel": ["display", "paid_search", "display"],
            "conversions": [0, 2, 1],
            **{m: [1.0, 1.0, 1.0] for m in METHODS},
        }
    )
    mart.loc[1, "markov"] = 1.5
    mart.loc[[0, 2], "markov"] = 0.5  # display 1.0, paid_search 1.5
    kpis = pd.DataFrame(
        {"channel": ["paid_search", "paid_search"], "platform_conversions": [3.0, 4.0]}
    )
    summary = attribution_summary(mart, kpis)
    assert list(summary.index) == ["paid_search", "display"]  # by Markov credit
    assert summary.loc["display", "linear"] == 2.0 and summary.loc["display", "conversions"] == 1
    assert summary.loc["paid_search", "platform_claims"] == 7.0
    assert summary.loc["display", "platform_claims"] == 0.0


def test_three_dbt_steps_with_gates_between(dbt_manifest) -> None:
    """Staging, models and publish are separate steps; the singular test reading raw and the
    mart is a check on fct_ad_spend_daily (not a bare observation); the attribution sums
    test runs with the attribution mart; the vars carry the window and the settings."""
    import dagster as dg

    from marketing_ops.defs._shared import dbt_build_args
    from marketing_ops.defs.warehouse import assets, checks

    def check_keys(definition) -> set[tuple[str, str]]:
        return {(k.asset_key.to_user_string(), k.name) for k in definition.check_keys}

    def asset_keys(definition) -> set[str]:
        return {k.to_user_string() for k in definition.keys}

    assert "staging/stg_ga4__events" in asset_keys(assets.warehouse_staging)
    assert {"intermediate/int_conversions__deduplicated", "marts/fct_touchpoints"} <= asset_keys(
        assets.warehouse_models
    )
    assert asset_keys(assets.warehouse_publish) == {
        "marts/fct_conversions",
        "marts/fct_channel_kpis_daily",
        "marts/fct_email_engagement",
        "marts/fct_attribution_daily",
        "marts/fct_audience_kpis_daily",  # reads fct_conversions: published after it
        "marts/fct_geo_kpis_daily",  # so does this one
    }
    # no dbt step is partitioned (one event per model per run); the days live on one asset
    assert all(
        s.partitions_def is None
        for s in (assets.warehouse_staging, assets.warehouse_models, assets.warehouse_publish)
    )
    assert assets.days_published.partitions_def is not None
    assert set(assets.warehouse_publish.keys) <= assets.days_published.asset_deps[assets.DAYS_KEY]
    assert "marts/dim_channel" in asset_keys(assets.warehouse_models)
    assert ("marts/fct_ad_spend_daily", "assert_spend_reconciles_with_raw") in check_keys(
        assets.warehouse_models
    )
    assert ("marts/fct_attribution_daily", "assert_attribution_sums_to_conversions") in check_keys(
        assets.warehouse_publish
    )
    gated = {(g.asset_key[0], g.suite) for g in checks.GATES}
    assert ("intermediate", "marts.fct_conversions") in gated
    assert ("staging", "staging.stg_ga4__events") in gated
    assert all(c.check_specs and next(iter(c.check_specs)).blocking for c in checks.gx_checks)
    publish_deps = {k.to_user_string() for k in assets.warehouse_publish.dependency_keys}
    assert {
        "attribution/data_driven_weights",
        "intermediate/int_channel_kpis__daily",
    } <= publish_deps
    args = dbt_build_args({"attribution_lookback_days": 14})
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == {"attribution_lookback_days": 14}
    assert isinstance(assets.channel_grouping_overrides, dg.AssetsDefinition)


def test_each_dbt_step_is_one_dbt_invocation_per_run(dbt_manifest) -> None:
    """No dbt step is both upstream and downstream of another: Dagster would otherwise split
    the steps into subsets, each a dbt invocation of its own (13 instead of 6, measured when
    the layers were steps of their own)."""
    from marketing_ops.defs.warehouse import assets
    from marketing_ops.runner import load_definitions

    steps = [assets.warehouse_staging, assets.warehouse_models, assets.warehouse_publish]
    job = load_definitions().resolve_job_def("ingest_and_model")
    # warehouse_<step> are the dbt steps; warehouse__days_published is the day marker
    dbt_nodes = {n for n in job.graph.node_dict if n.startswith("warehouse_") and "__" not in n}
    assert dbt_nodes == {s.node_def.name for s in steps}


# The staging views of daily sources whose tests read the run's days (their yml's meta).
WINDOWED_STAGING = {
    "stg_ga4__events",
    "stg_email__events",
    "stg_google_ads__campaign_stats",
    "stg_meta_ads__ad_stats",
}


def test_the_window_changes_no_sql_of_the_steps_rebuilt_whole_nor_the_parse(
    built_warehouse, tmp_path, dbt_manifest
) -> None:
    """Every dbt step of a run gets the run's window so that all of them build the same
    days (defs/warehouse/assets.py, _build). That is only right while the window changes
    nothing the steps rebuilt whole run: each step's models and tests (its selection, with
    the project's `buildable` tests) compile to the same SQL with and without it, except the
    tests of the daily sources' staging views, which read the run's days on purpose. A model
    of those steps that starts reading the window, or another test of theirs that gets
    windowed, fails here. The window reaches the runs in the environment: it compiles to the
    same SQL as the window given as vars, and parsing never reads it (so a new day's window
    costs no parse: vars and env vars read while parsing are dbt's parse state)."""
    from dbt.cli.main import dbtRunner

    from marketing_ops.defs._shared import WINDOW_ENV, dbt_environment, dbt_window_env
    from marketing_ops.defs.warehouse import assets

    project = str(assets.project.project_dir)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, warehouse)
    base = {"warehouse_path": str(warehouse)}
    window = {"start_date": "2026-01-05", "end_date": "2026-01-06"}
    in_env = dbt_window_env(window["start_date"], window["end_date"])
    no_env = dbt_window_env(None, None)
    common = ["--quiet", "--project-dir", project, "--profiles-dir", project]
    with dbt_environment(in_env):
        parsed = dbtRunner().invoke(["parse", *common, "--vars", json.dumps(base)])
    assert parsed.success, parsed.exception
    assert not set(WINDOW_ENV) & set(parsed.result.env_vars)
    runner = dbtRunner(manifest=parsed.result)  # one parse for all the compiles below
    control = "not_null_fct_ad_spend_daily_date_day"  # a daily mart's test: windowed
    steps = {
        "staging": assets.STAGING_SELECT,
        **{k: assets.LAYERS[k] for k in ("models_inputs", "models_after", "publish_current")},
        "control": control,
    }
    changed: dict[str, list[str]] = {}
    for step, selection in steps.items():
        compiled = {}
        for name, dbt_vars, env in (
            ("whole", base, no_env),
            ("windowed", {**base, **window}, no_env),
            ("env", base, in_env),
        ):
            target = tmp_path / step / name
            with dbt_environment(env):
                result = runner.invoke(
                    [
                        "compile", *common,
                        "--target-path", str(target),
                        "--indirect-selection", "buildable",
                        "--select", *selection.split(),
                        "--vars", json.dumps(dbt_vars),
                    ]
                )  # fmt: skip
            assert result.success, (step, result.exception)
            compiled[name] = {
                p.relative_to(target).as_posix(): p.read_text()
                for p in (target / "compiled").rglob("*.sql")
            }
        assert compiled["whole"], step
        assert compiled["whole"].keys() == compiled["windowed"].keys(), step
        assert compiled["env"] == compiled["windowed"], step  # the runs' path: the same SQL
        changed[step] = [
            Path(k).stem for k, sql in compiled["whole"].items() if sql != compiled["windowed"][k]
        ]
    # the control shows the comparison sees the window where it applies; in staging exactly
    # the tests of the daily sources' views that opt in (meta test_window_column); nothing else
    windowed_staging = {
        Path(node.path).stem  # the compiled file's name (a long test name is hashed)
        for node in parsed.result.nodes.values()
        if node.resource_type == "test"
        and (getattr(node, "attached_node", None) or "").split(".")[-1] in WINDOWED_STAGING
    }
    assert len(windowed_staging) >= len(WINDOWED_STAGING)
    assert {k: sorted(v) for k, v in changed.items()} == {
        **{step: [] for step in steps},
        "staging": sorted(windowed_staging),
        "control": [control],
    }
