"""Quality gates through Dagster on the raw world of world.py: a failing gate keeps its rows
out of every mart decisions read, says why, and a fixed input heals on the next run."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from marketing_ops.config import DataHome, data_home

from .world import DAY3, _ga4, insert_raw

MEASUREMENT_YAML = r"""
measurement:
  attribution:
    lookback_days: 1          # the world's journeys span hours (as WORLD_VARS)
  channel_grouping:
    - source: 'partner\.example'
      medium: affiliate
      channel: paid_social
      description: The partner is paid per click
"""


def _warehouse_defs():
    """The warehouse stage's assets and its gates past the raw tables (no signals here: the
    raw tables are already loaded)."""
    from marketing_ops.defs.warehouse import assets, checks

    gates = [
        c for g, c in zip(checks.GATES, checks.gx_checks, strict=True) if g.asset_key[0] != "raw"
    ]
    return [
        assets.channel_grouping_overrides,
        assets.warehouse_staging,
        assets.warehouse_models,
        assets.data_driven_attribution_weights,
        assets.warehouse_publish,
        assets.days_published,
        *gates,
    ]


def _resources(home: DataHome) -> dict[str, object]:
    from marketing_ops.defs._shared import StoreResource, dbt_executable, dbt_project

    return {
        "store": StoreResource(home_root=str(home.root)),
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }


def _materialize(home: DataHome, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        _warehouse_defs(),
        partition_key=DAY3.isoformat(),
        resources=_resources(home),
        selection=selection,
        raise_on_error=False,
    )


def _purchase(db: Path, revenue: float) -> None:
    """A day-3 purchase from a partner link (`partner.example / affiliate`), replacing any
    earlier version of it: what a corrected GA4 file does to the raw table."""
    row = _ga4(DAY3, 15, 0, "purchase", "u6", None, 6, "partner.example", "affiliate", None, None,
               revenue, "T9")  # fmt: skip
    lineage = ["hash-bad", "ga4_events_fix.jsonl", 99, None, DAY3]
    with duckdb.connect(str(db)) as con:
        con.execute("delete from raw.ga4_events where transaction_id = 'T9'")
        insert_raw(con, "ga4_events", row, lineage)


def _scalar(db: Path, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture
def home(built_warehouse, tmp_path, dbt_manifest) -> DataHome:
    home = data_home(tmp_path / "home").ensure()
    shutil.copyfile(built_warehouse.db, home.warehouse)
    (home.root / "measurement.yaml").write_text(MEASUREMENT_YAML)
    return home


def test_staging_gate_blocks_then_fix_heals(home: DataHome) -> None:
    """A 5,000,000 EUR purchase passes row validation but not the GA4 staging suite: the
    models and publish steps never run, so no mart holds it; the check names the column and
    links an HTML report. Corrected to 90 EUR, the same day's run publishes it, with the
    channel the data home's grouping override gives its partner link."""
    _purchase(home.warehouse, 5_000_000.0)
    blocked = _materialize(home)
    assert not blocked.success
    evaluations = {e.check_name: e for e in blocked.get_asset_check_evaluations()}
    gate = evaluations["gx_staging_stg_ga4__events"]
    assert not gate.passed
    assert "revenue" in gate.metadata["summary"].value
    report = Path(gate.metadata["report"].value)
    assert report.is_file() and "stg_ga4__events: failed" in report.read_text()
    materialized = {
        e.asset_key.to_user_string() for e in blocked.get_asset_materialization_events()
    }
    assert "staging/stg_ga4__events" in materialized
    assert (
        not {"intermediate/int_conversions__deduplicated", "marts/fct_conversions"} & materialized
    )
    for table in ("intermediate.int_conversions__deduplicated", "marts.fct_conversions"):
        assert _scalar(home.warehouse, f"select count(*) from {table} where revenue > 100000") == 0

    _purchase(home.warehouse, 90.0)
    healed = _materialize(home)
    assert healed.success
    assert all(e.passed for e in healed.get_asset_check_evaluations())
    channel, revenue = (
        _scalar(home.warehouse, "select channel from marts.fct_conversions where conversion_id = 'purchase:T9'"),
        _scalar(home.warehouse, "select revenue from marts.fct_conversions where conversion_id = 'purchase:T9'"),
    )  # fmt: skip
    assert (channel, revenue) == ("paid_social", 90.0)
    # Day 3 now has three conversions, and every attribution method credits all three.
    for method in ("conversions", "first_touch", "markov", "shapley"):
        total = _scalar(
            home.warehouse,
            f"select sum({method}) from marts.fct_attribution_daily where date_day = '{DAY3}'",
        )
        assert total == pytest.approx(3.0), method


def test_audit_gate_keeps_rows_from_being_published(home: DataHome) -> None:
    """Write, audit, publish: when the rows about to be published break the
    `marts.fct_conversions` suite, the publish step does not run and the mart keeps the rows
    it had. (The audit table is broken by hand here: the staging gates stop bad source rows
    before they get this far.)"""
    before = _scalar(home.warehouse, "select sum(revenue) from marts.fct_conversions")
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute(
            "update intermediate.int_conversions__deduplicated set revenue = -500 "
            "where conversion_id = 'deal:DEAL3'"
        )
    from marketing_ops.defs.warehouse.assets import days_published, warehouse_publish

    # the day marker gives the run its day (the dbt steps themselves are not partitioned)
    publish = dg.AssetSelection.assets(warehouse_publish, days_published)
    gate = dg.AssetSelection.checks(
        dg.AssetCheckKey(
            dg.AssetKey(["intermediate", "int_conversions__deduplicated"]),
            "gx_marts_fct_conversions",
        )
    )
    result = _materialize(home, selection=publish | gate)
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and "revenue" in evaluation.metadata["summary"].value
    assert result.get_asset_materialization_events() == []
    assert _scalar(home.warehouse, "select sum(revenue) from marts.fct_conversions") == before
    assert _scalar(home.warehouse, "select min(revenue) from marts.fct_conversions") >= 0
