"""Policy experiments: two decision policies side by side on randomised units, with a holdout.

Units (audience-days, geos, contacts) are assigned to arms by a salted hash of the unit id,
so an assignment is reproducible, needs no stored state and cannot be steered by whoever
runs the experiment. The report gives, per pair of arms, the difference in mean outcome with
a fixed-horizon Welch interval and an *always-valid* interval, a sample-ratio-mismatch check,
and a stop/continue verdict.

Why always-valid: people look at running experiments every day. Checking a fixed-horizon
p-value at every look and stopping at the first p < 0.05 rejects a true null far more often
than 5%. The mixture sequential probability ratio test (mSPRT; Johari, Pekelis and Walsh,
"Always Valid Inference", 2017) with a normal mixing distribution gives a p-value and an
interval that stay valid whenever you look, so "stop when p_always < alpha" is a valid
stopping rule. The price is a wider interval than the fixed-horizon one at any given n.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ArmComparison",
    "SrmCheck",
    "always_valid",
    "assign_arms",
    "compare_arms",
    "experiment_report",
    "sample_ratio_mismatch",
]


def assign_arms(units: list[str] | pd.Series, shares: dict[str, float], salt: str) -> pd.Series:
    """Arm per unit from a salted SHA-256 of the unit id: stable, stateless, unsteerable."""
    names = list(shares)
    weights = np.array([shares[n] for n in names], dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"arm shares must be >= 0 and sum > 0, got {shares}")
    edges = np.cumsum(weights / weights.sum())
    out = []
    for unit in units:
        h = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
        u = int.from_bytes(h[:8], "big") / 2**64
        out.append(names[int(np.searchsorted(edges, u, side="right"))])
    return pd.Series(out, index=list(units), name="arm")


@dataclass(frozen=True)
class SrmCheck:
    """Chi-square goodness of fit of the observed arm counts to the planned shares."""

    counts: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool

    def __str__(self) -> str:
        verdict = "SAMPLE RATIO MISMATCH" if self.mismatch else "no mismatch"
        return f"{verdict} (chi2 {self.chi2:.2f}, p {self.p_value:.2g}, counts {self.counts})"


def sample_ratio_mismatch(
    counts: dict[str, int], shares: dict[str, float], alpha: float = 0.001
) -> SrmCheck:
    """Do the arms hold the share of units the design promised?

    A mismatch means assignment or logging is broken (a bot filter hitting one arm, a
    crash losing one arm's events) and the experiment's difference cannot be trusted. The
    conventional threshold is p < 0.001: the check runs on every experiment, so it must not
    cry wolf, and a real mismatch on thousands of units gives far smaller p-values.
    """
    names = list(shares)
    total = sum(counts.get(n, 0) for n in names)
    weights = np.array([shares[n] for n in names], dtype=float)
    expected = weights / weights.sum() * total
    observed = np.array([counts.get(n, 0) for n in names], dtype=float)
    if total == 0:
        return SrmCheck({n: 0 for n in names}, dict(zip(names, expected, strict=True)), 0, 1, False)
    chi2, p = stats.chisquare(observed, expected)
    return SrmCheck(
        {n: int(c) for n, c in zip(names, observed, strict=True)},
        {n: float(e) for n, e in zip(names, expected, strict=True)},
        float(chi2),
        float(p),
        bool(p < alpha),
    )


def always_valid(
    difference: float, variance: float, alpha: float = 0.05, tau2: float | None = None
) -> tuple[float, float, float]:
    """mSPRT for a difference in means with known (estimated) variance of the estimate.

    With the estimate ``d`` ~ N(theta, V) and a N(0, tau2) mixture over theta, the mixture
    likelihood ratio against theta = 0 is
    ``sqrt(V / (V + tau2)) * exp(tau2 * d**2 / (2 V (V + tau2)))``. The always-valid p-value
    is ``min(1, 1 / ratio)`` (taken as a running minimum by the caller); the always-valid
    interval is every theta whose ratio stays below ``1 / alpha``. ``tau2`` defaults to the
    variance of one unit's outcome difference scale (``V`` times the units so far is not
    known here), so callers pass ``tau2`` explicitly; without it, ``V`` itself is used.
    Returns (p_value, lower, upper).
    """
    if not (variance > 0) or not math.isfinite(difference):
        return 1.0, -math.inf, math.inf
    t2 = variance if tau2 is None else tau2
    v = variance
    log_ratio = 0.5 * math.log(v / (v + t2)) + t2 * difference**2 / (2 * v * (v + t2))
    p = min(1.0, math.exp(-log_ratio))
    half = math.sqrt((v * (v + t2) / t2) * (2 * math.log(1 / alpha) + math.log((v + t2) / v)))
    return p, difference - half, difference + half


@dataclass(frozen=True)
class ArmComparison:
    """Treatment minus control on the mean outcome per unit."""

    treatment: str
    control: str
    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    difference: float
    ci_lower: float  # fixed-horizon Welch interval: valid only if you look once
    ci_upper: float
    p_value: float
    always_valid_p: float  # valid at every look
    always_valid_lower: float
    always_valid_upper: float
    relative_uplift: float


def compare_arms(
    treatment: np.ndarray,
    control: np.ndarray,
    names: tuple[str, str] = ("treatment", "control"),
    alpha: float = 0.05,
    tau2: float | None = None,
) -> ArmComparison:
    """Welch difference with its fixed-horizon interval and the mSPRT always-valid one."""
    a, b = np.asarray(treatment, float), np.asarray(control, float)
    na, nb = len(a), len(b)
    ma = float(a.mean()) if na else math.nan
    mb = float(b.mean()) if nb else math.nan
    va = float(a.var(ddof=1)) if na > 1 else math.nan
    vb = float(b.var(ddof=1)) if nb > 1 else math.nan
    diff = ma - mb
    se2 = va / na + vb / nb if na > 1 and nb > 1 else math.nan
    if math.isfinite(se2) and se2 > 0:
        dof = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
        t = stats.t.ppf(1 - alpha / 2, dof)
        lo, hi = diff - t * math.sqrt(se2), diff + t * math.sqrt(se2)
        p = float(2 * stats.t.sf(abs(diff) / math.sqrt(se2), dof))
        # mixing variance on the scale of one unit's outcome spread: an effect about the size
        # of the per-unit noise is what the prior expects; the result is valid for any tau2
        prior = tau2 if tau2 is not None else (va + vb) / 2
        av_p, av_lo, av_hi = always_valid(diff, se2, alpha, prior)
    else:
        lo = hi = p = av_lo = av_hi = math.nan
        av_p = 1.0
    return ArmComparison(
        names[0],
        names[1],
        na,
        nb,
        ma,
        mb,
        diff,
        lo,
        hi,
        p,
        av_p,
        av_lo,
        av_hi,
        diff / mb if mb else math.nan,
    )


def experiment_report(
    units: pd.DataFrame,
    shares: dict[str, float],
    pairs: list[tuple[str, str]],
    outcome: str = "outcome",
    alpha: float = 0.05,
    peeks: list[int] | None = None,
) -> dict:
    """The experiment as people read it: SRM, each comparison, and whether to stop.

    ``units`` has one row per unit with ``arm`` and the outcome, in the order units were
    observed (the order matters only for the running always-valid p-value). ``peeks`` are the
    unit counts at which people looked; the always-valid p-value reported is the running
    minimum over them (that is what makes stopping at any of them valid). Stop when every
    comparison's always-valid p-value is below ``alpha`` (a winner is clear) — otherwise keep
    going; SRM overrides everything: a mismatched experiment is stopped and investigated.
    """
    counts = units["arm"].value_counts().to_dict()
    srm = sample_ratio_mismatch(counts, shares)
    looks = sorted(set(peeks or [])) + [len(units)]
    comparisons = []
    for t, c in pairs:
        running_p = 1.0
        for n in looks:
            seen = units.iloc[:n]
            cmp_n = compare_arms(
                seen.loc[seen["arm"] == t, outcome].to_numpy(),
                seen.loc[seen["arm"] == c, outcome].to_numpy(),
                (t, c),
                alpha,
            )
            running_p = min(running_p, cmp_n.always_valid_p)
        final = cmp_n
        comparisons.append({**final.__dict__, "always_valid_p": running_p})
    if srm.mismatch:
        verdict = "stop: sample ratio mismatch, investigate assignment and logging"
    elif comparisons and all(c["always_valid_p"] < alpha for c in comparisons):
        verdict = "stop: every comparison is conclusive (always-valid p < alpha)"
    else:
        verdict = "continue: not yet conclusive"
    return {"srm": srm, "comparisons": pd.DataFrame(comparisons), "verdict": verdict}
