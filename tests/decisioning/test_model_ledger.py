"""MMM fits and experiment verdicts on the decision ledger: one hash chain with the decision
batches, each fit once under its version, and a decision on the fit's curves names it (and
`explain` shows the fit's diagnostics and the verdicts)."""

from __future__ import annotations

import json

import pytest
from worlds.decisions import AS_OF, SIGNALS, inputs

from marketing_ops.decisioning import (
    AutonomyState,
    LedgerTampered,
    decide,
    fit_entry,
    rationale_markdown,
    read_entries,
    record_model_fit,
    verdict_entries,
)
from marketing_ops.decisioning.ledger.decisions import verify_ledger

FIT = "ab" * 32


def fit_record(version: str = FIT) -> dict:
    return {
        "fit_version": version,
        "model_version": "mmm-numpyro0.0+v1",
        "as_of": str(AS_OF),
        "data_versions": {"marts/fct_channel_kpis_daily": "dv-1", "mmm_input_frame": "f" * 64},
        "diagnostics": {"max_rhat": 1.01, "min_ess": 420.0, "divergences": 0, "ok": True},
        "converged": True,
    }


VERDICTS = [
    {"fit_version": FIT, "experiment": "search holdout", "accepted": True, "reason": "accepted"},
    {
        "fit_version": FIT,
        "experiment": "social lift",
        "accepted": False,
        "reason": "too short: 5 days < 14",
    },
]


def test_fit_and_verdicts_go_on_the_chain_once(home) -> None:
    written = record_model_fit(home, fit_record(), VERDICTS)
    assert [e["kind"] for e in written] == ["model_fit", "experiment_verdict", "experiment_verdict"]
    assert record_model_fit(home, fit_record(), VERDICTS) == []  # same version: not again
    entries = read_entries(home)
    assert fit_entry(entries, FIT[:16])["data_versions"]["marts/fct_channel_kpis_daily"] == "dv-1"
    assert [v["reason"] for v in verdict_entries(entries, FIT)] == [
        "accepted",
        "too short: 5 days < 14",
    ]
    assert record_model_fit(home, fit_record("cd" * 32), [])[0]["seq"] == 4
    assert verify_ledger(home).ok


def test_an_edited_fit_entry_breaks_the_chain(home) -> None:
    record_model_fit(home, fit_record(), VERDICTS)
    path = home.ledger / "decisions.jsonl"
    path.write_text(path.read_text().replace('"min_ess":420.0', '"min_ess":4200.0'))
    with pytest.raises(LedgerTampered, match="line 1"):
        read_entries(home)


def test_decision_on_mmm_curves_names_the_fit_and_explain_shows_it(home, policies) -> None:
    record_model_fit(home, fit_record(), VERDICTS)
    frames = inputs()
    tagged = frames.curve_rows.assign(model_version=f"mmm-numpyro0.0+v1@fit:{FIT}")
    frames = frames.__class__(**{**frames.__dict__, "curve_rows": tagged})
    batch = decide(AS_OF, frames, policies, AutonomyState(), SIGNALS).batch
    budget = batch[batch["action_type"] == "budget_allocation"]
    row = budget.iloc[0].to_dict()
    model = json.loads(row["rationale"])["response_model"]
    assert model == {"model_version": "mmm-numpyro0.0+v1", "mmm_fit": FIT}
    text = rationale_markdown(row, models=read_entries(home))
    assert f"**MMM fit** `{FIT[:16]}`" in text
    assert "converged True" in text and "min ESS 420" in text
    assert "social lift: rejected (too short: 5 days < 14)" in text
    assert "marts/fct_channel_kpis_daily `dv-1`" in text
    # without the ledger the fit version is still named, and says it was not found
    assert "not on the decision ledger" in rationale_markdown(row, models=[])


def test_attributed_curves_have_no_fit_version(policies) -> None:
    frames = inputs()
    tagged = frames.curve_rows.assign(model_version="response-v3")
    frames = frames.__class__(**{**frames.__dict__, "curve_rows": tagged})
    batch = decide(AS_OF, frames, policies, AutonomyState(), SIGNALS).batch
    row = batch[batch["action_type"] == "budget_allocation"].iloc[0]
    assert json.loads(row["rationale"])["response_model"] == {"model_version": "response-v3"}
