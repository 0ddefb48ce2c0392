"""Every batch kept: two decisions for the same day leave two batches in agent.decisions,
each listed and exportable; only the latest executes, and deciding again never sends an
action twice."""

from __future__ import annotations

import json

import pytest
from worlds.decisions import AS_OF, SIGNALS, inputs, with_autonomy

from marketing_ops.decisioning import (
    AutonomyState,
    decide,
    export_batch,
    keep_earlier_batches,
    list_batches,
    load_batch,
)
from marketing_ops.warehouse import connect, read_table, replace_partition


def _store(home, batch) -> None:
    """What the decision asset does: keep the day's earlier batches, add this one."""
    with connect(home.warehouse) as con:
        earlier = read_table(con, "agent.decisions", date_column="as_of", start=AS_OF, end=AS_OF)
        rows = keep_earlier_batches(earlier, batch.assign(as_of=AS_OF))
        replace_partition(con, "agent.decisions", rows, AS_OF)


def test_two_decisions_for_the_same_day_leave_two_exportable_batches(home, policies) -> None:
    """Two policies compared on one day: both batches listed, the later one current, each
    loaded and exported whole; the earlier one's open actions are superseded, by name."""
    first = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS).batch
    _store(home, first)
    other = with_autonomy(policies, "full").model_copy(update={"version": "b" * 12})
    second = decide(AS_OF, inputs(campaigns=True), other, AutonomyState(), SIGNALS).batch
    _store(home, second)
    ids = [first["batch_id"].iloc[0], second["batch_id"].iloc[0]]
    with connect(home.warehouse, read_only=True) as con:
        listed = list_batches(con)
        assert list(listed["batch_id"]) == ids
        assert list(listed["current"]) == [False, True]
        assert list(listed["actions"]) == [len(first), len(second)]
        assert list(list_batches(con, AS_OF)["batch_id"]) == ids
        for batch_id, decided in zip(ids, (first, second), strict=True):
            rows = load_batch(con, batch_id)
            records = json.loads(export_batch(rows, "json"))
            assert {r["batch_id"] for r in records} == {batch_id}
            assert sorted(r["decision_id"] for r in records) == sorted(decided["decision_id"])
            assert export_batch(rows, "csv").count("\n") > len(rows)  # header + one row each
        earlier = load_batch(con, ids[0]).set_index("decision_id")
    was_open = first[first["status"].isin(["approved", "pending_approval", "proposed"])]
    assert len(was_open)
    for decision_id in was_open["decision_id"]:
        assert earlier.loc[decision_id, "status"] == "superseded"
    assert set(second["status"]) == {"approved"}  # the current batch is untouched


def test_re_storing_the_same_batch_keeps_one_copy(home, policies) -> None:
    """A batch stored twice (a retried write) is one batch, not two."""
    batch = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS).batch
    _store(home, batch)
    _store(home, batch)
    with connect(home.warehouse, read_only=True) as con:
        assert list(list_batches(con)["actions"]) == [len(batch)]


def test_deciding_again_never_sends_an_action_twice(home, policies) -> None:
    """The first batch went out; the same day decided again on the same inputs repeats those
    actions under new ids: they are blocked, naming the id they went out under."""
    full = with_autonomy(policies, "full")
    first = decide(AS_OF, inputs(campaigns=True), full, AutonomyState(), SIGNALS).batch
    _store(home, first.assign(status="executed"))
    second = decide(AS_OF, inputs(campaigns=True), full, AutonomyState(), SIGNALS).batch
    assert not set(second["decision_id"]) & set(first["decision_id"])
    _store(home, second)
    with connect(home.warehouse, read_only=True) as con:
        again = load_batch(con, second["batch_id"].iloc[0])
    assert set(again["status"]) == {"blocked"}
    went_out = set(first["decision_id"])
    for rationale in again["rationale"]:
        reason = json.loads(rationale)["autonomy"]["status_reason"]
        assert reason.startswith("already executed today as D-")
        assert reason.split(" ")[4] in went_out


def test_unknown_batch_names_the_latest(home, policies) -> None:
    batch = decide(AS_OF, inputs(campaigns=True), policies, AutonomyState(), SIGNALS).batch
    _store(home, batch)
    with connect(home.warehouse, read_only=True) as con, pytest.raises(KeyError) as err:
        load_batch(con, "B-20261123-00000000")
    assert batch["batch_id"].iloc[0] in str(err.value)
