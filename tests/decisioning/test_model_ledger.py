"""MMM fits and experiment verdicts on the decision ledger: one hash chain with the decision
batches, each fit once under its version, and a decision on the fit's curves names it (and
`explain` shows the fit's diagnostics and the verdicts)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from worlds.decisions import AS_OF, SIGNALS, inputs, record_day

from marketing_ops.decisioning import (
    AutonomyState,
    LedgerTampered,
    decide,
    fit_entry,
    rationale_markdown,
    read_entries,
    record_model_fit,
    verdict_entries,
    verdict_frame,
)
from marketing_ops.decisioning.batch.replay import replay_batch
from marketing_ops.decisioning.decide import AUTO_CARRYOVER_DAYS
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


PAID = ("display", "paid_search", "paid_social")


def tail_verdicts(channels, accepted: bool = True, fit: str = FIT, tail: bool = True) -> list:
    """Verdict records as ``verdict_records`` writes them: a 4-week test of each channel,
    read over the 4 weeks after its end (a tail row) or over its own weeks."""
    return [
        {
            "fit_version": fit,
            "experiment": f"{c} holdout" + (" tail" if tail else ""),
            "channel": c,
            "experiment_kind": "holdout",
            "start": "2026-09-07",
            "end": "2026-10-04",
            "lift_start": "2026-10-05" if tail else "2026-09-07",
            "readout_end": "2026-11-01" if tail else "2026-10-04",
            "accepted": accepted,
            "reason": "accepted" if accepted else "prior predictive disagrees",
        }
        for c in channels
    ]


def _on_fit(home, verdicts: list, fit: str = FIT):
    """Decision inputs whose curves name ``fit``, with its verdicts as the asset reads them."""
    record_model_fit(home, fit_record(fit), verdicts)
    frames = inputs()
    tagged = frames.curve_rows.assign(model_version=f"mmm-numpyro0.0+v1@fit:{fit}")
    return replace(frames, curve_rows=tagged, verdicts=verdict_frame(home, fit))


def _budget(frames, policies, carryover="auto") -> tuple[dict, dict, dict]:
    """(amount per channel, the first budget row's rationale, that row) of the day's batch."""
    policies = policies.model_copy(
        update={"budget": policies.budget.model_copy(update={"carryover_days": carryover})}
    )
    batch = decide(AS_OF, frames, policies, AutonomyState(), SIGNALS).batch
    budget = batch[batch["action_type"] == "budget_allocation"]
    amounts = dict(zip(budget["channel"], budget["amount"], strict=True))
    row = budget.iloc[0].to_dict()
    return amounts, json.loads(row["rationale"]), row


def test_auto_carryover_counts_the_tail_once_tests_measured_every_decay(home, policies) -> None:
    """``carryover_days: auto`` (the default) plans on 28 days after the week when the fit's
    accepted experiments include a tail row for every planned channel (read from the
    ledger's verdicts of the fit behind the curves), and says so in the rationale."""
    assert policies.budget.carryover_days == "auto"
    frames = _on_fit(home, VERDICTS + tail_verdicts(PAID))
    assert set(frames.verdicts["channel"].dropna()) == set(PAID)
    amounts, rationale, row = _budget(frames, policies)
    assert rationale["carryover"] == {
        "days": AUTO_CARRYOVER_DAYS,
        "setting": "auto",
        "decay_measured": list(PAID),
    }
    assert amounts == pytest.approx(_budget(frames, policies, AUTO_CARRYOVER_DAYS)[0])
    week_alone = _budget(frames, policies, 0)[0]
    # paid_social's decay 0.5 against search's 0.3: counting the tail moves money to social
    assert amounts["paid_social"] > week_alone["paid_social"] + 10.0
    text = " ".join(rationale_markdown(row, models=read_entries(home)).split())
    assert (
        "**Carry-over valued after the period** 28 days (auto: accepted tail read-outs "
        "measured the decay of display, paid_search, paid_social)" in text
    )


@pytest.mark.parametrize(
    "verdicts, missing",
    [
        # one channel's tail row rejected: its decay is not measured
        (tail_verdicts(PAID[:2]) + tail_verdicts(PAID[2:], accepted=False), ["paid_social"]),
        # in-test rows only: the lift over the test's weeks does not separate the decay
        (tail_verdicts(PAID, tail=False), list(PAID)),
        # another fit's tail rows are not this fit's
        ([], list(PAID)),
    ],
)
def test_auto_carryover_keeps_the_week_alone_without_a_measured_decay(
    home, policies, verdicts, missing
) -> None:
    record_model_fit(home, fit_record("cd" * 32), tail_verdicts(PAID, fit="cd" * 32))
    frames = _on_fit(home, verdicts)
    amounts, rationale, row = _budget(frames, policies)
    assert rationale["carryover"]["days"] == 0
    assert rationale["carryover"]["decay_not_measured"] == missing
    assert amounts == pytest.approx(_budget(frames, policies, 0)[0])
    text = " ".join(rationale_markdown(row, models=[]).split())
    assert f"0 days (auto: no accepted tail read-out for {', '.join(missing)}" in text


def test_a_fixed_carryover_is_used_as_written(home, policies) -> None:
    frames = _on_fit(home, tail_verdicts(PAID))
    _, rationale, _ = _budget(frames, policies, 14)
    assert rationale["carryover"] == {"days": 14, "setting": "fixed"}


def test_a_batch_planned_on_a_measured_decay_replays_identically(home, policies) -> None:
    """The verdicts are a recorded input of the batch: a replay decides the same plan."""
    frames = _on_fit(home, tail_verdicts(PAID))
    batch, entry = record_day(home, frames)
    rationale = json.loads(batch[batch["action_type"] == "budget_allocation"]["rationale"].iloc[0])
    assert rationale["carryover"]["days"] == AUTO_CARRYOVER_DAYS
    assert replay_batch(home, entry["batch_id"]).identical
