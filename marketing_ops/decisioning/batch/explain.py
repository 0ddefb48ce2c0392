"""Rationale in words: one decision (or a batch) as Markdown for people.

The same text is what ``marketing-ops explain DECISION_ID`` prints and what the decision
asset shows in the Dagster UI, so the two never tell different stories. It is rendered from
the stored row alone (the rationale JSON carries everything), plus the approval ledger's
entries for the decision when they are given.
"""

from __future__ import annotations

import json
import math

import pandas as pd

__all__ = ["batch_markdown", "carryover_line", "rationale_markdown"]


def _money(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{float(v):,.0f} EUR"


def _number(v: object, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{float(v):,.{digits}f}"


def _interval(pair: object, fmt) -> str:
    if not isinstance(pair, list | tuple) or len(pair) != 2 or any(_isnan(v) for v in pair):
        return "-"
    return f"{fmt(pair[0])} to {fmt(pair[1])}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def rationale_markdown(
    row: dict,
    ledger: list[dict] | None = None,
    heading: str = "###",
    models: list[dict] | None = None,
) -> str:
    """One decision as Markdown: what, expected outcome with intervals, why it waits, the
    binding constraints, the alternatives with the expected difference to each, the signals
    with their data versions, the graph path, and the response model it rests on (with the
    decision ledger's ``models`` entries: the fit's diagnostics and experiment verdicts)."""
    r = row.get("rationale")
    rationale = json.loads(r) if isinstance(r, str) and r else (r or {})
    what = " / ".join(
        str(row[k])
        for k in ("channel", "campaign_id", "audience_id", "asset_id")
        if row.get(k) not in (None, "", "None") and not _isnan(row.get(k))
    )
    lines = [
        f"{heading} {row['decision_id']} · {row['action_type']} · {what}",
        "",
        f"**Status** `{row['status']}` · **policy version** `{row['policy_version']}` · "
        f"**batch** `{row['batch_id']}` · **scheduled for** {row.get('scheduled_for') or '-'}"
        + (f" · **amount** {_money(row.get('amount'))}" if not _isnan(row.get("amount")) else "")
        + (
            f" · **propensity** {float(row['propensity']):.1%}"
            if not _isnan(row.get("propensity"))
            else ""
        ),
        "",
        rationale.get("summary", ""),
        "",
    ]
    scores = rationale.get("scores") or {}
    outcome = [
        (
            "conversions",
            _number(scores.get("expected_conversions", row.get("expected_conversions"))),
            _interval(scores.get("conversions_interval"), _number),
        ),
        (
            "revenue",
            _money(scores.get("expected_revenue", row.get("expected_revenue"))),
            _interval(
                scores.get(
                    "revenue_interval", [row.get("expected_lower"), row.get("expected_upper")]
                ),
                _money,
            ),
        ),
    ]
    if "expected_profit" in scores:
        outcome.append(
            (
                "profit (revenue - spend)",
                _money(scores["expected_profit"]),
                _interval(scores.get("profit_interval"), _money),
            )
        )
    lines += ["| expected | value | 90% interval |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in outcome]
    other = {
        k: v
        for k, v in scores.items()
        if not k.startswith(("expected_", "conversions_", "revenue_", "profit_"))
        and k not in {"ctr_interval"}
    }
    if other:
        lines += [
            "",
            "**Scores**: " + ", ".join(f"{k} {_cell(_fmt(v))}" for k, v in sorted(other.items())),
        ]
    autonomy = rationale.get("autonomy") or {}
    waits = autonomy.get("waits_for_approval_because") or []
    lines += [
        "",
        f"**Autonomy** {autonomy.get('level', '-')}"
        + (": waits for a named approver because " + "; ".join(waits) if waits else ""),
    ]
    if autonomy.get("status_reason"):
        lines += ["", f"**Status** {row.get('status', '-')}: {autonomy['status_reason']}"]
    binding = rationale.get("binding_constraints") or []
    lines += ["", "**Binding constraints**"]
    lines += [f"- {b}" for b in binding] or ["- none"]
    lines += [
        "",
        "**Alternatives (counterfactuals)**",
        "",
        "| alternative | expected revenue | difference (chosen - alternative) |",
        "|---|---:|---:|",
    ]
    for a in rationale.get("alternatives") or []:
        diff = a.get("difference")
        lines.append(
            f"| {_cell(a.get('description', ''))} | {_money(a.get('expected_revenue'))} | "
            f"{_money(diff) if diff is not None else _diff_other(a)} |"
        )
    signals = rationale.get("signals") or []
    lines += ["", "**Signals**", "", "| input | data version |", "|---|---|"]
    lines += [f"| {_cell(s.get('name'))} | `{s.get('data_version')}` |" for s in signals]
    if rationale.get("graph_path"):
        lines += ["", f"**Graph path** {_cell(rationale['graph_path'])}"]
    if rationale.get("phasing"):
        lines += [
            "",
            "**Phasing** "
            + ", ".join(f"{p['date']} {p['amount']:,.0f}" for p in rationale["phasing"]),
        ]
    if rationale.get("carryover"):
        lines += ["", carryover_line(rationale["carryover"])]
    if rationale.get("applies_to"):
        lines += ["", f"**Times** {rationale['applies_to']}"]
    for note in rationale.get("notes") or []:
        lines += ["", f"> {note}"]
    lines += _model_lines(rationale.get("response_model"), models)
    lines += _readout_lines(rationale.get("test"), models)
    mine = [e for e in (ledger or []) if e.get("decision_id") == row["decision_id"]]
    if mine:
        lines += ["", "**Approval ledger**"]
        lines += [
            f"- {e['at']}: {e['verdict']} by {e['approver']}"
            + (f" ({e['reason']})" if e.get("reason") else "")
            + f" · hash `{e['hash'][:12]}`"
            for e in mine
        ]
    return "\n".join(lines).rstrip() + "\n"


def _readout_lines(test: dict | None, entries: list[dict] | None) -> list[str]:
    """An incrementality test's answer: the latest verdict on the ledger of each of its rows
    (the in-test read-out, and its tail when it has one), as the model's checks left it."""
    if not test or not test.get("design") or entries is None:
        return []
    names = (test["design"], f"{test['design']}-tail")
    latest = {
        e["experiment"]: e
        for e in entries
        if e.get("kind") == "experiment_verdict" and e.get("experiment") in names
    }
    if not latest:
        return ["", "**Read-out** none yet: a test is read when it has run and ended"]
    lines = ["", "**Read-out**"]
    for name, e in latest.items():
        verdict = "accepted as calibration" if e.get("accepted") else "rejected"
        measured = (
            "not read"
            if e.get("lift") is None
            else f"lift {_number(e.get('lift'))} (SE {_number(e.get('standard_error'))})"
        )
        lines.append(
            f"- {_cell(name)}: {measured}, {verdict}"
            + (f" ({_cell(e['reason'])})" if e.get("reason") and not e.get("accepted") else "")
            + f" · fit `{str(e.get('fit_version', ''))[:12]}`"
        )
    return lines


def carryover_line(carryover: dict) -> str:
    """How many days after the period the plan valued, and why (budget.carryover_days)."""
    days = int(carryover.get("days") or 0)
    head = f"**Carry-over valued after the period** {days} days"
    if carryover.get("setting") != "auto":
        return f"{head} (budget.carryover_days)"
    if days:
        measured = ", ".join(carryover.get("decay_measured") or [])
        return f"{head} (auto: accepted tail read-outs measured the decay of {measured})"
    missing = ", ".join(carryover.get("decay_not_measured") or []) or "the planned channels"
    return f"{head} (auto: no accepted tail read-out for {missing}, so the period alone)"


def _model_lines(model: dict | None, entries: list[dict] | None) -> list[str]:
    """The response model behind a budget decision, and its fit's ledger entry when known."""
    if not model:
        return []
    out = ["", f"**Response model** `{model.get('model_version', '-')}`"]
    fit = model.get("mmm_fit")
    if not fit:
        return out
    out[-1] += f" · **MMM fit** `{fit[:16]}`"
    found = [
        e for e in entries or [] if e.get("kind") == "model_fit" and e.get("fit_version") == fit
    ]
    if not found:
        return [*out, "", "> the fit is not on the decision ledger given"]
    e, d = found[-1], found[-1].get("diagnostics") or {}
    out += [
        "",
        f"- fitted as of {e.get('as_of')} · converged {e.get('converged')} · max R-hat "
        f"{_number(d.get('max_rhat'), 3)} · min ESS {_number(d.get('min_ess'), 0)} · "
        f"divergences {d.get('divergences', '-')} · ledger seq {e.get('seq')} hash "
        f"`{str(e.get('hash', ''))[:12]}`",
        "- data versions: "
        + ", ".join(
            f"{k} `{str(v)[:16]}`" for k, v in sorted((e.get("data_versions") or {}).items())
        ),
    ]
    for v in (x for x in entries or [] if x.get("kind") == "experiment_verdict"):
        if v.get("fit_version") == fit:
            verdict = "accepted" if v.get("accepted") else "rejected"
            out.append(
                f"- experiment {_cell(v.get('experiment'))}: {verdict} ({_cell(v.get('reason'))})"
            )
    return out


def _diff_other(a: dict) -> str:
    for key, unit in (("difference_conversions", "conversions"), ("difference_clicks", "clicks")):
        if a.get(key) is not None:
            return f"{float(a[key]):,.1f} {unit}"
    return "-"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def _isnan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def batch_markdown(batch: pd.DataFrame, ledger: list[dict] | None = None, limit: int = 40) -> str:
    """Every decision of a batch (up to ``limit``; budget, then tests, first) as Markdown."""
    order = {
        "budget_allocation": 0,
        "incrementality_test": 1,
        "content_selection": 2,
        "send_time": 3,
    }
    frame = batch.assign(_o=batch["action_type"].map(order).fillna(4)).sort_values(
        ["_o", "channel", "audience_id"], kind="stable"
    )
    parts = [
        rationale_markdown(r, ledger, heading="####") for r in frame.head(limit).to_dict("records")
    ]
    if len(frame) > limit:
        parts.append(f"... and {len(frame) - limit} more: `marketing-ops explain DECISION_ID`\n")
    return "\n".join(parts)
