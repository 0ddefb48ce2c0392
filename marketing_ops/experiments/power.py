"""Power of a test design over an effect-size grid, and the shortest duration that reaches it.

Every design here ends in a normal estimate of the test's total lift with a standard error
that shrinks with its length (periods) or its size (units): a geo holdout or a spend pulse is
a difference in differences of per-period KPI, an audience holdout a difference in means per
contact. Power is the two-sided z-test's, ``P(|estimate / se| > z_{1 - alpha/2})`` at the
true effect:

    power(effect) = Phi(effect / se - z) + Phi(-effect / se - z)

(the second term, a significant result of the wrong sign, is kept so power at zero effect is
exactly ``alpha``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = [
    "audience_standard_error",
    "did_standard_error",
    "minimum_detectable_effect",
    "minimum_periods",
    "power",
    "power_curve",
]


def power(effect: float | np.ndarray, standard_error: float, alpha: float = 0.05):
    """Two-sided z-test power at ``effect`` for an estimate with ``standard_error``."""
    if not standard_error > 0:
        raise ValueError(f"standard_error must be > 0, got {standard_error}")
    z = norm.ppf(1 - alpha / 2)
    ratio = np.asarray(effect, dtype=float) / standard_error
    out = norm.cdf(ratio - z) + norm.cdf(-ratio - z)
    return float(out) if np.ndim(out) == 0 else out


def minimum_detectable_effect(
    standard_error: float, alpha: float = 0.05, target_power: float = 0.8
) -> float:
    """The effect detected with ``target_power`` (one tail; the other's share is negligible)."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(target_power)) * standard_error


def did_standard_error(sigma: float, pre_periods: int, test_periods: int) -> float:
    """SE of a difference in differences' TOTAL lift over ``test_periods``.

    ``sigma`` is the sd of the per-period difference (treated minus matched control, or
    on-flight minus off-flight) around its mean; the per-period effect's variance is
    ``sigma^2 (1 / pre + 1 / test)`` and the total is ``test`` periods of it."""
    if pre_periods < 1 or test_periods < 1:
        return math.inf
    return sigma * math.sqrt(1 / pre_periods + 1 / test_periods) * test_periods


def audience_standard_error(sd: float, n_treated: int, n_holdout: int) -> float:
    """SE of an audience holdout's TOTAL lift (difference in means times treated contacts)."""
    if n_treated < 1 or n_holdout < 1:
        return math.inf
    return sd * math.sqrt(1 / n_treated + 1 / n_holdout) * n_treated


def power_curve(effects: np.ndarray, standard_error: float, alpha: float = 0.05) -> pd.DataFrame:
    """Power at each effect of a grid (total lift in KPI units)."""
    effects = np.asarray(effects, dtype=float)
    return pd.DataFrame({"effect": effects, "power": power(effects, standard_error, alpha)})


def minimum_periods(
    effect: float,
    sigma: float,
    pre_periods: int,
    alpha: float = 0.05,
    target_power: float = 0.8,
    max_periods: int = 52,
    effect_per_period: bool = True,
) -> int | None:
    """Fewest test periods whose DiD reaches ``target_power`` at ``effect`` (None: never).

    ``effect`` is per period when ``effect_per_period`` (a holdout's lift grows with its
    length), otherwise the total the test must detect."""
    for periods in range(1, max_periods + 1):
        total = effect * periods if effect_per_period else effect
        se = did_standard_error(sigma, pre_periods, periods)
        if power(total, se, alpha) >= target_power:
            return periods
    return None
