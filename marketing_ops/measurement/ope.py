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


def _point_estimates(
    log: pd.DataFrame, policy: Policy, candidates: dict[str, list[str]], prior_strength: float
) -> dict[str, float]:
    x = log["context"].to_numpy()
    a = log["action"].to_numpy()
    p = log["propensity"].to_numpy(float)
    r = log["reward"].to_numpy(float)
    w = policy(x, a) / p
    q = reward_model(log, prior_strength)
    q_logged = np.array([q(c, act) for c, act in zip(x, a, strict=True)])
    q_pi = np.zeros(len(log))
    for i, c in enumerate(x):
        acts = candidates.get(c, [])
        if acts:
            probs = policy(np.array([c] * len(acts)), np.array(acts))
            q_pi[i] = float(np.dot(probs, [q(c, act) for act in acts]))
    return {
        "ips": float(np.mean(w * r)),
        "snips": float(np.sum(w * r) / np.sum(w)) if np.sum(w) > 0 else math.nan,
        "dr": float(np.mean(q_pi + w * (r - q_logged))),
        "mean_weight": float(np.mean(w)),
        "max_weight": float(np.max(w)) if len(w) else math.nan,
        "effective_n": float(np.sum(w) ** 2 / np.sum(w**2)) if np.sum(w**2) > 0 else 0.0,
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
    point = _point_estimates(log, policy, cands, prior_strength)
    rng = np.random.default_rng(seed)
    boots: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
    n = len(log)
    for _ in range(n_boot):
        sample = log.iloc[rng.integers(0, n, n)]
        est = _point_estimates(sample, policy, cands, prior_strength)
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
