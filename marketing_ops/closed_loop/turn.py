"""One loop day's decisions: the same :func:`marketing_ops.decisioning.decide` the
``decision_batch`` asset calls (seasonal index, campaign split, content under compliance and
value per conversion), once per arm of the content experiment.

What the loop adds around it, and why:

- **forecasts** are refreshed at the start of each budget period: the demand index (what the
  ``baselines`` asset writes as ``seasonal_index`` rows) every period, the response curves
  when drift asks for it (the ``response_curves`` asset's rows), so Prophet and the bootstrap
  do not run every simulated day;
- **the budget** is planned at the start of each budget period only: the loop measures once
  a period, so a daily re-plan would read a half-measured week;
- **the weekly frequency cap** is held with the sends up to today, since the graph counts
  sends as of its last build;
- **the content experiment**: audiences randomised per day into the current content policy,
  a challenger with less exploration, and a holdout that gets nothing; ``decide`` runs once
  per arm on that arm's candidates, the budget lines coming from the current arm's run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from marketing_ops.closed_loop.config import EXPERIMENT_SHARES, PAID
from marketing_ops.closed_loop.world import read
from marketing_ops.config import DataHome

__all__ = [
    "Forecasts",
    "TurnResult",
    "capped_candidates",
    "decide_turn",
    "refresh_forecasts",
    "turn_tests",
]


@dataclass
class Forecasts:
    """The forecasts stage's rows as the decisions read them, and the point curves drift
    is judged against."""

    curve_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    seasonal_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    curves: dict = field(default_factory=dict)
    # the media mix model's fit behind the curves (KPIFit; None on attributed curves): the
    # posterior the turn's incrementality tests are priced on
    mmm: object | None = None


@dataclass
class TurnResult:
    batch: pd.DataFrame
    audiences: list[str]
    arm_of: dict[str, str]
    untested: dict[str, str] = field(default_factory=dict)  # channel -> why no test


def refresh_forecasts(
    home: DataHome, kpis: pd.DataFrame, as_of: date, current: Forecasts, refit: bool, bootstrap: int
) -> Forecasts:
    """The demand index ahead of ``as_of`` as ``seasonal_index`` rows, and the response
    curves re-fitted on it when ``refit`` (or when there are none yet): from the model the
    product's ``response_curves`` asset would use (``response_model``, ``auto`` resolved on the
    KPI history). A media mix model that fails the convergence gate gives no curves, and the
    turn then decides nothing, as the asset's blocking check stops the product's decision."""
    from marketing_ops.forecasting import (
        baseline_model_version,
        curves_model_of,
        demand_index,
        fit_response_curves,
        load_forecast_settings,
        response_frame,
        response_model_version,
        responses_from_frame,
        seasonal_index_rows,
    )

    settings = load_forecast_settings(home.settings / "forecasting.yaml")
    index = demand_index(kpis, as_of, settings.horizon_days, settings)
    seasonal = seasonal_index_rows(
        index, kpis["channel"].unique(), as_of, baseline_model_version(settings)
    )
    if not refit and current.curves:
        return Forecasts(current.curve_rows, seasonal, current.curves, current.mmm)
    fit = None
    if curves_model_of(settings, kpis) == "mmm":
        rows, fit = mmm_curve_rows(home, kpis, as_of, settings)
        fitted = responses_from_frame(rows)
    else:
        fitted = fit_response_curves(kpis, index, settings, channels=PAID, bootstrap=bootstrap)
        rows = response_frame(fitted, as_of, response_model_version(settings))
    return Forecasts(rows, seasonal, {c: f.curve for c, f in fitted.items()}, fit)


def mmm_curve_rows(home: DataHome, kpis: pd.DataFrame, as_of: date, settings):
    """The media mix model's curve rows as the ``response_curves`` asset fits them (the
    home's lift tests and the agent's own ended tests as calibration, the fit and its
    experiments' verdicts on the decision ledger), and the fit (``KPIFit``, None without
    data); the rows are empty when the fit did not converge."""
    from marketing_ops.experiments.batch import calibrated_kpi_fit
    from marketing_ops.forecasting import RESPONSE_COLUMNS
    from marketing_ops.forecasting.mmm.kpis import curve_rows, mmm_model_version
    from marketing_ops.warehouse import frame_version

    kpi_version = {"marts/fct_channel_kpis_daily": frame_version(kpis)}
    result, _ = calibrated_kpi_fit(home, kpis, settings, as_of, kpi_version)
    if result is None:
        return pd.DataFrame(columns=RESPONSE_COLUMNS), None
    rows = curve_rows(
        result.fit,
        result.value_per_conversion,
        as_of,
        mmm_model_version(settings),
        settings.mmm.curve_draws,
        result.version,
    )
    return rows, result


def capped_candidates(
    home: DataHome, policies, sends_by_audience: dict[str, list[date]], day: date
) -> pd.DataFrame:
    """The graph's eligible candidates of every allowed channel, without the audiences that
    reached the weekly frequency cap with the sends up to ``day``."""
    from marketing_ops.graph import GraphReader, eligible_candidates

    with GraphReader(home.graph) as reader:
        candidates = pd.concat(
            [
                eligible_candidates(
                    reader,
                    channel=channel,
                    suppressed_audiences=tuple(policies.content.suppressed_audiences),
                    frequency_cap_per_week=None,  # held below with the sends up to today
                )
                for channel in policies.content.allowed_channels
            ],
            ignore_index=True,
        )
    cap = policies.content.frequency_cap_per_week
    recent = {
        a: sum(1 for s in sent if s > day - timedelta(days=7))
        for a, sent in sends_by_audience.items()
    }
    under_cap = {a for a in candidates["audience_id"].unique() if recent.get(a, 0) < cap}
    return candidates[candidates["audience_id"].isin(under_cap)]


def _arm_policies(policies):
    """The content policy of each treated arm: current as written, challenger with less
    exploration (the holdout gets nothing)."""
    exploration = policies.content.exploration.model_copy(
        update={"max_share": 0.05, "min_propensity": 0.01}
    )
    challenger = policies.content.model_copy(update={"exploration": exploration})
    return (
        ("current", policies),
        ("challenger", policies.model_copy(update={"content": challenger})),
    )


def _inputs(home: DataHome, kpis, forecasts: Forecasts, candidates, as_of: date, policies):
    from marketing_ops.decisioning import DecisionInputs, executed_test_spend, verdict_frame
    from marketing_ops.decisioning.decide import response_model_of

    campaign_level = policies.budget.plan_level == "campaign"

    def history(table: str) -> pd.DataFrame:
        if not campaign_level:
            return pd.DataFrame()
        return read(home, table, date_column="date_day", end=as_of)

    return DecisionInputs(
        kpis,
        forecasts.curve_rows,
        forecasts.seasonal_rows,
        read(home, "marts.fct_audience_send_hours"),
        candidates,
        history("marts.fct_ad_spend_daily"),
        history("marts.fct_conversions"),
        verdict_frame(home, response_model_of(forecasts.curve_rows).get("mmm_fit")),
        executed_test_spend(read(home, "agent.decisions")),
    )


def decide_turn(
    home: DataHome,
    as_of: date,
    kpis: pd.DataFrame,
    forecasts: Forecasts,
    candidates: pd.DataFrame,
    signals: list[dict],
    seed: int,
    experiment_salt: str,
    plan_budget: bool,
    created_at: datetime | None = None,
) -> TurnResult:
    """The day's batch: ``decide`` per content arm, the budget lines (on a period's first
    day) from the current arm, statuses after the approval ledger and scoped autonomy."""
    from marketing_ops.decisioning import (
        apply_approvals,
        apply_scoped_autonomy,
        assemble_batch,
        autonomy_state,
        decide,
        load_policies,
        read_approvals,
        scoped_autonomy,
    )
    from marketing_ops.measurement import assign_arms

    policies = load_policies(home.policies)
    day = as_of + timedelta(days=1)
    audiences = sorted(candidates["audience_id"].unique()) if len(candidates) else []
    arms = assign_arms(
        [f"{a}|{day.isoformat()}" for a in audiences], EXPERIMENT_SHARES, experiment_salt
    )
    arm_of = dict(zip(audiences, arms.tolist(), strict=True))
    batches = []
    # no curves (a media mix model the gate blocked): no decision, as in the product
    arms_to_decide = _arm_policies(policies) if forecasts.curves else ()
    for arm, arm_policies in arms_to_decide:
        in_arm = candidates[candidates["audience_id"].map(arm_of) == arm]
        keep_budget = plan_budget and arm == "current"
        if not len(in_arm) and not keep_budget:
            continue
        inputs = _inputs(home, kpis, forecasts, in_arm, as_of, arm_policies)
        result = decide(
            as_of, inputs, arm_policies, autonomy_state(home), signals, seed, created_at
        )
        batch = result.batch
        batches.append(batch if keep_budget else batch[batch["action_type"] != "budget_allocation"])
    batch = (
        pd.concat(batches, ignore_index=True)
        if batches
        else assemble_batch(as_of, None, None, policies, signals, autonomy_state(home))
    )
    untested: dict[str, str] = {}
    if plan_budget and forecasts.curves and forecasts.mmm is not None and len(batch):
        tests, untested = turn_tests(home, forecasts.mmm, as_of, policies, batch)
        batch = pd.concat([batch, tests], ignore_index=True) if len(tests) else batch
    ledger = read_approvals(home)
    batch = apply_scoped_autonomy(apply_approvals(batch, ledger), scoped_autonomy(home), ledger)
    return TurnResult(batch, audiences, arm_of, untested)


def turn_tests(home: DataHome, fit, as_of: date, policies, batch: pd.DataFrame):
    """The incrementality tests the decision asset would add to ``batch`` (testing.yaml),
    priced on the period's media mix model ``fit``, the tests already in ``agent.decisions``
    holding their channel and budget: (rows, why each channel got none)."""
    from marketing_ops.decisioning import DECISION_COLUMNS, autonomy_state
    from marketing_ops.forecasting import load_forecast_settings

    if not policies.testing.enabled:
        return pd.DataFrame(columns=DECISION_COLUMNS), {}
    from marketing_ops.experiments.batch import geo_kpis, propose_on_fit

    settings = load_forecast_settings(home.settings / "forecasting.yaml")
    earlier = read(home, "agent.decisions")
    autonomy = autonomy_state(home)
    return propose_on_fit(fit, as_of, policies, batch, earlier, autonomy, settings, geo_kpis(home))
