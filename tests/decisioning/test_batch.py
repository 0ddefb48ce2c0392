"""The decision batch: contract columns, deterministic ids, a runner-up for every row,
and statuses that follow autonomy and thresholds."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest
from worlds.decisions import AS_OF, SIGNALS, budget_plan, build_batch, candidates, with_autonomy

from marketing_ops.decisioning import (
    DECISION_COLUMNS,
    AutonomyState,
    assemble_batch,
    choose_content,
    export_batch,
)


def test_contract_columns_ids_and_rationale(policies) -> None:
    """Exactly the contract's columns; ids in the documented form; every rationale names its
    signals with data versions, has a summary and at least one alternative."""
    batch = build_batch(policies)
    assert list(batch.columns) == DECISION_COLUMNS
    assert {"budget_allocation", "content_selection", "send_time"} == set(batch["action_type"])
    assert batch["decision_id"].str.fullmatch(r"D-20261123-[0-9a-f]{8}").all()
    assert batch["decision_id"].is_unique
    assert batch["batch_id"].nunique() == 1 and re.fullmatch(
        r"B-20261123-[0-9a-f]{8}", batch["batch_id"].iloc[0]
    )
    assert (batch["policy_version"] == policies.version).all()
    for text in batch["rationale"]:
        r = json.loads(text)
        assert len(r["alternatives"]) >= 1
        assert [s["data_version"] for s in r["signals"]] == ["kpis-v1", "graph-v1"]
        assert r["summary"] and isinstance(r["binding_constraints"], list)
        assert all(
            {"description", "expected_revenue", "difference"} <= set(a) for a in r["alternatives"]
        )


def test_budget_rows_carry_plan_figures(policies) -> None:
    """Budget rows: amount, expected revenue inside its interval, phasing that sums to the amount."""
    budget = build_batch(policies).query("action_type == 'budget_allocation'")
    assert set(budget["channel"]) == {"paid_search", "paid_social", "display"}
    assert (budget["expected_lower"] < budget["expected_revenue"]).all()
    assert (budget["expected_revenue"] < budget["expected_upper"]).all()
    for row in budget.to_dict("records"):
        phasing = json.loads(row["rationale"])["phasing"]
        assert sum(p["amount"] for p in phasing) == pytest.approx(row["amount"], abs=0.05)
        assert phasing[0]["date"] == row["scheduled_for"] == "2026-11-24"


def _decided_at(policies, created_at: datetime) -> pd.DataFrame:
    empty_hours = pd.DataFrame(columns=["audience_id", "hour_of_day", "opens", "clicks"])
    choices = choose_content(candidates(), empty_hours, policies.content, AS_OF, seed=1)
    return assemble_batch(
        AS_OF, budget_plan(policies), choices, policies, SIGNALS, AutonomyState(), created_at
    )


def test_ids_are_deterministic_and_follow_policy(policies) -> None:
    """Same inputs at the same moment give the same ids (what a replay relies on); deciding
    the day again later makes a new batch with new ids; another policy version, another
    batch."""
    moment = datetime(2026, 11, 23, 6, 0, 0, 123456)
    a, b = _decided_at(policies, moment), _decided_at(policies, moment)
    assert list(a["decision_id"]) == list(b["decision_id"])
    assert a["batch_id"].iloc[0] == b["batch_id"].iloc[0]
    later = _decided_at(policies, moment + timedelta(microseconds=1))
    assert later["batch_id"].iloc[0] != a["batch_id"].iloc[0]
    assert not set(later["decision_id"]) & set(a["decision_id"])
    changed = policies.model_copy(update={"version": "0" * 12})
    assert _decided_at(changed, moment)["batch_id"].iloc[0] != a["batch_id"].iloc[0]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("off", {"blocked"}), ("recommend_only", {"proposed"}), ("full", {"approved"})],
)
def test_status_by_autonomy_level(policies, level: str, expected: set[str]) -> None:
    """off blocks everything, recommend_only only proposes, full approves."""
    assert set(build_batch(with_autonomy(policies, level))["status"]) == expected


def test_above_threshold_waits_below_goes_ahead(policies) -> None:
    """approve_above_threshold: a 9,000-contact audience (threshold 5,000) waits for a person;
    an 800-contact one with a confident estimate is approved; its send time follows it."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold")).set_index(
        ["action_type", "audience_id"]
    )
    assert batch.loc[("content_selection", "new_visitors"), "status"] == "pending_approval"
    reasons = json.loads(batch.loc[("content_selection", "new_visitors"), "rationale"])["autonomy"]
    assert "reaches 9,000 contacts" in reasons["waits_for_approval_because"][0]
    assert batch.loc[("content_selection", "loyal_customers"), "status"] == "approved"
    assert batch.loc[("send_time", "new_visitors"), "status"] == "pending_approval"
    assert batch.loc[("send_time", "loyal_customers"), "status"] == "approved"


@pytest.mark.parametrize(("money", "expected"), [(0.0, "pending_approval"), (1e9, "approved")])
def test_money_moved_threshold(policies, money: float, expected: str) -> None:
    """A budget move above the money threshold waits; with a huge threshold it goes ahead."""
    approvals = policies.approvals.model_copy(
        update={"money_moved_eur": money, "min_confidence": 0.0}
    )
    batch = build_batch(policies.model_copy(update={"approvals": approvals}))
    assert set(batch.query("action_type == 'budget_allocation'")["status"]) == {expected}


def test_runtime_ceiling_and_kill_switch(policies) -> None:
    """The run-time level only makes things stricter: full policy + recommend_only state proposes,
    and the kill switch blocks every row."""
    full = with_autonomy(policies, "full")
    assert set(build_batch(full, AutonomyState("recommend_only", "drift off-ramp"))["status"]) == {
        "proposed"
    }
    assert set(build_batch(full, AutonomyState("off", "Head of Marketing"))["status"]) == {
        "blocked"
    }


def test_per_policy_override(policies) -> None:
    """A budget override to recommend_only leaves content at the global full level."""
    batch = build_batch(with_autonomy(policies, "full", budget="recommend_only"))
    assert set(batch.query("action_type == 'budget_allocation'")["status"]) == {"proposed"}
    assert set(batch.query("action_type != 'budget_allocation'")["status"]) == {"approved"}


def test_export_json_and_csv(policies) -> None:
    """JSON carries the rationale as an object and null for missing numbers; CSV has the contract header."""
    batch = build_batch(policies)
    records = json.loads(export_batch(batch, "json"))
    assert len(records) == len(batch)
    assert all(rec["rationale"]["alternatives"] for rec in records)
    content = next(r for r in records if r["action_type"] == "content_selection")
    assert content["amount"] is None
    csv = pd.read_csv(io.StringIO(export_batch(batch, "csv")))
    assert list(csv.columns) == DECISION_COLUMNS and len(csv) == len(batch)
    with pytest.raises(ValueError, match="expected json or csv"):
        export_batch(batch, "xml")


def test_batch_lands_in_duckdb_with_stable_types(policies, tmp_path) -> None:
    """An all-null text column (campaign_id) is still VARCHAR in a real DuckDB table, so
    later batches with campaign ids append cleanly."""
    batch = build_batch(policies)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.register("incoming", batch)
    con.execute("create table decisions as select * from incoming")
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'decisions'"
        ).fetchall()
    )
    con.close()
    assert types["campaign_id"] == "VARCHAR" and types["amount"] == "DOUBLE"
    assert types["created_at"].startswith("TIMESTAMP")


def test_send_time_points_at_its_content_action(policies) -> None:
    """Each send-time row names the content decision of the same audience it times."""
    batch = build_batch(policies)
    content = batch[batch["action_type"] == "content_selection"].set_index("audience_id")[
        "decision_id"
    ]
    for row in batch[batch["action_type"] == "send_time"].to_dict("records"):
        assert json.loads(row["rationale"])["applies_to"] == content[row["audience_id"]]
