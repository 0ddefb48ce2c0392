"""A proposed test is a decision: it waits for approval above the testing threshold, an
approved one executes per geo through the connectors, and it is on the ledger and in explain."""

import json

import pandas as pd
import pytest

from marketing_ops.config import DataHome
from marketing_ops.decisioning import (
    ApprovalError,
    apply_approvals,
    approve,
    ensure_default_policies,
    load_policies,
    rationale_markdown,
)
from marketing_ops.decisioning.ledger.decisions import read_entries
from marketing_ops.execution import SandboxConnector
from marketing_ops.experiments import InformationValue
from marketing_ops.experiments.governance import (
    Proposal,
    execute_experiments,
    experiment_actions,
    experiment_payloads,
    record_experiments,
)

TESTING = """testing:
  enabled: true
  budget_eur: 50000
  approval_above_eur: 1000
  every_test_waits_for_approval: false
"""


@pytest.fixture
def home(tmp_path) -> DataHome:
    h = DataHome(tmp_path / "home")
    ensure_default_policies(h.policies)
    (h.policies / "testing.yaml").write_text(TESTING)
    return h


def proposal(geo_test, cost: float) -> Proposal:
    d = geo_test.design.with_expected_lift(geo_test.true_lift)
    return Proposal(d, InformationValue(d.channel, 9000.0, 6000.0, cost, d.expected_lift, 4e5))


def test_the_testing_policy_is_read_and_leaves_other_versions_alone(home):
    policies = load_policies(home.policies)
    assert policies.testing.enabled and policies.testing.approval_above_eur == 1000
    (home.policies / "testing.yaml").unlink()
    assert load_policies(home.policies).testing.enabled is False  # a home without the file


def test_by_default_every_test_waits_even_one_priced_as_paying_for_itself(home, geo_test):
    """Without ``every_test_waits_for_approval: false`` a test below the cost threshold, or
    one the model expects to pay for itself, still waits for a person, at autonomy full too."""
    (home.policies / "testing.yaml").write_text(
        TESTING.replace("  every_test_waits_for_approval: false\n", "")
    )
    policies = load_policies(home.policies)
    assert policies.testing.every_test_waits_for_approval is True
    tests = [proposal(geo_test, 500.0), proposal(geo_test, -12000.0)]
    for p in tests:
        actions = experiment_actions([p], "B-0", policies, "2026-12-04", horizon=26)
        assert actions["status"].tolist() == ["pending_approval"]
        text = rationale_markdown(actions.iloc[0].to_dict())
        assert "testing.every_test_waits_for_approval" in text
    full = policies.model_copy(
        update={"autonomy": policies.autonomy.model_copy(update={"level": "full"})}
    )
    actions = experiment_actions(tests[1:], "B-0", full, "2026-12-04", horizon=26)
    assert actions["status"].tolist() == ["pending_approval"]


def test_an_approved_test_executes_per_geo_and_is_on_the_ledger(home, geo_test):
    policies = load_policies(home.policies)
    cheap, costly = proposal(geo_test, 500.0), proposal(geo_test, 4000.0)
    actions = experiment_actions([cheap], "B-1", policies, "2026-12-04", horizon=26)
    assert actions["status"].tolist() == ["approved"]  # below testing.approval_above_eur
    actions = experiment_actions([costly], "B-1", policies, "2026-12-04", horizon=26)
    assert actions["status"].tolist() == ["pending_approval"]
    row = actions.iloc[0].to_dict()
    assert "4,000 EUR > testing.approval_above_eur 1,000" in rationale_markdown(row)
    assert "knowing it is worth 6,000 EUR" in rationale_markdown(row)

    with pytest.raises(ApprovalError, match="not incrementality_test"):
        approve(
            home,
            row["decision_id"],
            "CRM Manager",
            policies.roles,
            action_type="incrementality_test",
        )
    entry = approve(
        home,
        row["decision_id"],
        "Head of Marketing",
        policies.roles,
        action_type="incrementality_test",
    )
    approved = apply_approvals(actions, [entry])
    assert approved["status"].tolist() == ["approved"]

    done = execute_experiments(approved, {"*": SandboxConnector(home.outbox)}, False)
    assert sorted(done["geo"]) == sorted(geo_test.design.treated)
    assert done["delivered"].all()
    for r in done.to_dict("records"):
        payload = json.loads(open(r["location"]).read())
        removed = geo_test.design.notes["removed_by_geo"][r["geo"]]
        assert payload["amount_eur"] == pytest.approx(-removed) and removed > 0
        assert payload["test"]["design"] == geo_test.design.name
    again = execute_experiments(approved, {"*": SandboxConnector(home.outbox)}, False)
    assert (again["note"] == "already in the outbox").all()  # never twice

    record_experiments(home, approved)
    logged = [e for e in read_entries(home) if e["kind"] == "experiment_batch"]
    assert logged[0]["tests"][0]["decision_id"] == row["decision_id"]
    assert logged[0]["tests"][0]["design"]["treated_geos"] == list(geo_test.design.treated)


def test_regions_named_as_the_sources_name_them_deliver_one_payload_each(home, geo_test):
    """Real regions have spaces and accents ("New York", "Baden-Württemberg"), and two names
    can differ only by them: each treated region still gets its own payload, in a file name
    the sandbox connector accepts, with the region's name as it is."""
    from dataclasses import replace

    d = geo_test.design
    names = ["New York", "New_York", "Baden-Württemberg", "Île-de-France"]
    rename = dict(zip(d.treated, names, strict=False))
    removed = {rename.get(g, g): v for g, v in d.notes["removed_by_geo"].items()}
    treated = tuple(rename[g] for g in d.treated)
    design = replace(d, treated=treated, notes={**d.notes, "removed_by_geo": removed})
    renamed = geo_test.__class__(**{**vars(geo_test), "design": design})
    policies = load_policies(home.policies)
    actions = experiment_actions([proposal(renamed, 500.0)], "B-2", policies, "2026-12-04", 26)
    done = execute_experiments(actions, {"*": SandboxConnector(home.outbox)}, False)
    assert done["delivered"].all() and sorted(done["geo"]) == sorted(treated)
    assert done["payload_id"].nunique() == len(treated)
    for r in done.to_dict("records"):
        assert json.loads(open(r["location"]).read())["geo"] == r["geo"]


def test_kill_switch_and_waiting_tests_execute_nothing(home, geo_test):
    policies = load_policies(home.policies)
    actions = experiment_actions([proposal(geo_test, 4000.0)], "B-2", policies, pd.Timestamp(0), 26)
    out = execute_experiments(actions, {"*": SandboxConnector(home.outbox)}, False)
    assert out["note"].tolist() == ["not executed: status pending_approval"]
    assert not home.outbox.exists() or not any(home.outbox.rglob("*.json"))


def test_the_execution_step_delivers_an_approved_test_per_geo(home, geo_test):
    """`execute_batch` (what the execution asset runs on agent.decisions) sends a test as its
    per-geo payloads, not as one channel-wide budget change, and only once."""
    from marketing_ops.execution import execute_batch

    policies = load_policies(home.policies)
    approved = experiment_actions([proposal(geo_test, 500.0)], "B-3", policies, "2026-12-04", 26)
    assert approved["status"].tolist() == ["approved"]
    out = execute_batch(approved, {"*": SandboxConnector(home.outbox)}, False)
    assert out["status"].tolist() == ["executed"] and out["delivered"].all()
    written = sorted(home.outbox.rglob("*.json"))
    assert sorted(json.loads(p.read_text())["geo"] for p in written) == sorted(
        geo_test.design.treated
    )
    again = execute_batch(approved, {"*": SandboxConnector(home.outbox)}, False)
    assert again["status"].tolist() == ["executed"]
    assert again["already_delivered"].all() and not again["delivered"].any()
    assert len(sorted(home.outbox.rglob("*.json"))) == len(written)


def test_an_approved_spend_up_adds_spend_per_treated_geo(home, spend_up_test):
    d = spend_up_test.design.with_expected_lift(spend_up_test.true_lift)
    p = Proposal(d, InformationValue(d.channel, 9000.0, 6000.0, 500.0, d.expected_lift, 4e5))
    actions = experiment_actions([p], "B-4", load_policies(home.policies), "2026-12-04", 26)
    row = actions.iloc[0].to_dict()
    assert row["status"] == "approved" and row["amount"] == d.spend_added > 0
    assert row["expected_revenue"] > 0  # what the added spend is expected to buy
    assert "geo spend-up in" in rationale_markdown(row)
    payloads = experiment_payloads(row)
    assert sorted(x["geo"] for x in payloads) == sorted(d.treated)
    for x in payloads:
        assert x["amount_eur"] == pytest.approx(d.notes["added_by_geo"][x["geo"]])
        assert x["amount_eur"] > 0
        assert x["test"]["direction"] == "spend_up"
