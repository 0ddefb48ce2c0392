"""Off-policy evaluation: what a candidate policy would have earned, from logged decisions.

Every logged decision i has a context ``x_i`` (the audience), the action the logging policy
took ``a_i`` (the asset sent) with its logged propensity ``p_i = mu(a_i | x_i)``, and the
observed reward ``r_i`` (clicks per send). A candidate policy ``pi`` gives each action a
probability in each context. With importance weights ``w_i = pi(a_i | x_i) / p_i``:

- IPS (inverse propensity scoring): ``mean(w_i r_i)``; unbiased when every action pi can
  take had a positive logged propensity (the bandit's propensity floor guarantees this),
  but high-variance when weights are large.
- SNIPS (self-normalised IPS): ``sum(w_i r_i) / sum(w_i)``; a little biased, far steadier.
- DR (doubly robust): ``mean(q_pi(x_i) + w_i (r_i - q(x_i, a_i)))`` with a reward model
  ``q``; unbiased if either the propensities or the model are right, and lower-variance
  than IPS when the model is decent.

Intervals are percentile bootstraps over logged decisions (the reward model is re-fitted
in every resample, so its uncertainty is in the interval too). The OPE gate promotes a
candidate only when its lower bound beats the current policy's value: "probably better",
not "better on average", because a wrongly promoted policy costs real money.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "LOG_COLUMNS",
    "OpeEstimate",
    "GateDecision",
    "deterministic_policy",
    "estimate_policy_value",
    "evaluate_candidate",
    "greedy_candidate",
    "logged_content_decisions",
    "ope_gate",
    "reward_model",
]

# One logged decision per row.
LOG_COLUMNS = ["context", "action", "propensity", "reward"]

# A policy maps (contexts, actions) -> probability pi(action | context), vectorised.
Policy = Callable[[np.ndarray, np.ndarray], np.ndarray]


def deterministic_policy(choice: dict[str, str]) -> Policy:
    """The policy that always takes ``choice[context]`` (nothing where it has no choice)."""

    def pi(contexts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return np.array(
            [1.0 if choice.get(c) == a else 0.0 for c, a in zip(contexts, actions, strict=True)]
        )

    pi.choice = dict(choice)  # type: ignore[attr-defined]
    return pi


def reward_model(log: pd.DataFrame, prior_strength: float = 5.0) -> Callable[[str, str], float]:
    """q(x, a): mean reward of the (context, action) cell shrunk towards the context's mean
    (``prior_strength`` pseudo-observations), then towards the overall mean."""
    overall = float(log["reward"].mean()) if len(log) else 0.0
    ctx = log.groupby("context")["reward"].agg(["sum", "count"])
    ctx_mean = (ctx["sum"] + prior_strength * overall) / (ctx["count"] + prior_strength)
    cell = log.groupby(["context", "action"])["reward"].agg(["sum", "count"])
    table: dict[tuple[str, str], float] = {}
    for (c, a), row in cell.iterrows():
        prior = float(ctx_mean.get(c, overall))
        table[(c, a)] = (row["sum"] + prior_strength * prior) / (row["count"] + prior_strength)

    def q(context: str, action: str) -> float:
        return table.get((context, action), float(ctx_mean.get(context, overall)))

    return q


@dataclass(frozen=True)
class _Coded:
    """The log as integer codes plus the target policy on every (context, action) pair, so
    each bootstrap resample is a few array operations instead of a pandas group-by."""

    ctx: np.ndarray
    act: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray
    pi_logged: np.ndarray  # pi(a_i | x_i)
    pi_matrix: np.ndarray  # pi(a | x) over candidate actions, 0 elsewhere
    n_ctx: int
    n_act: int


def _code(log: pd.DataFrame, policy: Policy, candidates: dict[str, list[str]]) -> _Coded:
    contexts = sorted(set(log["context"]) | set(candidates))
    actions = sorted(set(log["action"]) | {a for acts in candidates.values() for a in acts})
    ci = {c: i for i, c in enumerate(contexts)}
    ai = {a: i for i, a in enumerate(actions)}
    pi_matrix = np.zeros((len(contexts), len(actions)))
    for c, acts in candidates.items():
        if acts:
            probs = policy(np.array([c] * len(acts)), np.array(acts))
            pi_matrix[ci[c], [ai[a] for a in acts]] = probs
    x, a = log["context"].to_numpy(), log["action"].to_numpy()
    return _Coded(
        np.array([ci[c] for c in x]),
        np.array([ai[v] for v in a]),
        log["propensity"].to_numpy(float),
        log["reward"].to_numpy(float),
        policy(x, a),
        pi_matrix,
        len(contexts),
        len(actions),
    )


def _q_table(d: _Coded, idx: np.ndarray, prior_strength: float) -> np.ndarray:
    """:func:`reward_model` as a matrix, on the rows ``idx`` of the log."""
    r, c, a = d.reward[idx], d.ctx[idx], d.act[idx]
    overall = float(r.mean()) if len(r) else 0.0
    c_sum = np.bincount(c, weights=r, minlength=d.n_ctx)
    c_cnt = np.bincount(c, minlength=d.n_ctx)
    with np.errstate(invalid="ignore", divide="ignore"):
        ctx_mean = np.where(
            c_cnt + prior_strength > 0,
            (c_sum + prior_strength * overall) / (c_cnt + prior_strength),
            overall,
        )
    cell = c * d.n_act + a
    s = np.bincount(cell, weights=r, minlength=d.n_ctx * d.n_act).reshape(d.n_ctx, d.n_act)
    n = np.bincount(cell, minlength=d.n_ctx * d.n_act).reshape(d.n_ctx, d.n_act)
    prior = ctx_mean[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(
            n + prior_strength > 0, (s + prior_strength * prior) / (n + prior_strength), prior
        )
    return np.where(n > 0, q, prior)


def _estimates(d: _Coded, idx: np.ndarray, prior_strength: float) -> dict[str, float]:
    w = d.pi_logged[idx] / d.propensity[idx]
    r = d.reward[idx]
    q = _q_table(d, idx, prior_strength)
    q_logged = q[d.ctx[idx], d.act[idx]]
    q_pi = (d.pi_matrix * q).sum(axis=1)[d.ctx[idx]]
    sw, sw2 = float(np.sum(w)), float(np.sum(w**2))
    return {
        "ips": float(np.mean(w * r)),
        "snips": float(np.sum(w * r) / sw) if sw > 0 else math.nan,
        "dr": float(np.mean(q_pi + w * (r - q_logged))),
        "effective_n": sw**2 / sw2 if sw2 > 0 else 0.0,
    }


@dataclass(frozen=True)
class OpeEstimate:
    """One estimator's value of a policy with its bootstrap interval."""

    estimator: str
    value: float
    lower: float
    upper: float
    n: int
    effective_n: float


def estimate_policy_value(
    log: pd.DataFrame,
    policy: Policy,
    candidates: dict[str, list[str]] | None = None,
    n_boot: int = 500,
    level: float = 0.9,
    seed: int = 0,
    prior_strength: float = 5.0,
) -> dict[str, OpeEstimate]:
    """IPS, SNIPS and DR estimates of ``policy``'s mean reward per decision.

    ``candidates`` lists the actions available per context (for the DR model term); by
    default every action ever logged in that context. Bootstrap resamples whole logged
    decisions ``n_boot`` times; the interval is the central ``level`` percentile interval.
    """
    missing = [c for c in LOG_COLUMNS if c not in log.columns]
    if missing:
        raise ValueError(f"logged decisions: missing columns {missing}")
    if (log["propensity"] <= 0).any() or (log["propensity"] > 1).any():
        raise ValueError("logged decisions: every propensity must be in (0, 1]")
    log = log.reset_index(drop=True)
    cands = candidates or {
        c: sorted(g["action"].unique()) for c, g in log.groupby("context", sort=True)
    }
    coded = _code(log, policy, cands)
    n = len(log)
    point = _estimates(coded, np.arange(n), prior_strength)
    rng = np.random.default_rng(seed)
    boots: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
    for _ in range(n_boot):
        est = _estimates(coded, rng.integers(0, n, n), prior_strength)
        for k in boots:
            boots[k].append(est[k])
    q = (1 - level) / 2
    out = {}
    for k, values in boots.items():
        v = np.asarray(values, float)
        v = v[np.isfinite(v)]
        lo, hi = (
            (float(np.quantile(v, q)), float(np.quantile(v, 1 - q))) if len(v) else (math.nan,) * 2
        )
        out[k] = OpeEstimate(k, point[k], lo, hi, n, point["effective_n"])
    return out


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    estimator: str
    candidate_lower: float
    candidate_value: float
    current_value: float
    reason: str


def ope_gate(
    candidate: dict[str, OpeEstimate], current_value: float, estimator: str = "dr"
) -> GateDecision:
    """Promote only when the candidate's lower bound beats the current policy's value."""
    est = candidate[estimator]
    promote = bool(math.isfinite(est.lower) and est.lower > current_value)
    verb = "beats" if promote else "does not beat"
    reason = (
        f"{estimator.upper()} lower bound {est.lower:.4f} (estimate {est.value:.4f}, "
        f"effective n {est.effective_n:.0f} of {est.n}) {verb} the current policy's "
        f"{current_value:.4f}"
    )
    return GateDecision(promote, estimator, est.lower, est.value, current_value, reason)


def logged_content_decisions(decisions: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The OPE log from the agent's own tables: one row per executed content choice that
    reached anyone, with its logged propensity and reward = clicks per send.

    ``decisions`` are ``agent.decisions`` rows; ``outcomes`` are ``decision_outcomes`` rows
    (sends and clicks per decision, from the email events tagged with the decision id).
    """
    if decisions is None or decisions.empty or outcomes is None or outcomes.empty:
        return pd.DataFrame(columns=[*LOG_COLUMNS, "decision_id", "scheduled_for"])
    content = decisions[
        (decisions["action_type"] == "content_selection") & (decisions["status"] == "executed")
    ]
    joined = content.merge(
        outcomes[["decision_id", "sends", "clicks"]], on="decision_id", how="inner"
    )
    joined = joined[(joined["sends"] > 0) & (joined["propensity"] > 0)]
    return pd.DataFrame(
        {
            "context": joined["audience_id"].astype(str),
            "action": joined["asset_id"].astype(str),
            "propensity": joined["propensity"].astype(float),
            "reward": joined["clicks"].astype(float) / joined["sends"].astype(float),
            "decision_id": joined["decision_id"].astype(str),
            "scheduled_for": joined["scheduled_for"].astype(str),
        }
    ).sort_values("scheduled_for", kind="stable", ignore_index=True)


def greedy_candidate(log: pd.DataFrame, prior_strength: float = 5.0) -> dict[str, str]:
    """The exploit-only policy learnt from a log: per context, the action with the best
    shrunk mean reward (the candidate the gate weighs against exploring)."""
    q = reward_model(log, prior_strength)
    return {
        c: max(sorted(g["action"].unique()), key=lambda a, c=c: q(c, a))
        for c, g in log.groupby("context", sort=True)
    }


def evaluate_candidate(
    log: pd.DataFrame, min_decisions: int = 30, n_boot: int = 300, seed: int = 0
) -> dict | None:
    """Learn the greedy candidate on the older half of the log and judge it on the newer
    half (judging a policy on the data it was learnt from flatters it). The current policy's
    value is the newer half's on-policy mean reward. None when the log is too short."""
    if len(log) < min_decisions:
        return None
    half = len(log) // 2
    train, test = log.iloc[:half], log.iloc[half:]
    choice = greedy_candidate(train)
    estimates = estimate_policy_value(test, deterministic_policy(choice), n_boot=n_boot, seed=seed)
    current = float(test["reward"].mean())
    return {
        "candidate": choice,
        "estimates": estimates,
        "current_value": current,
        "gate": ope_gate(estimates, current),
    }
