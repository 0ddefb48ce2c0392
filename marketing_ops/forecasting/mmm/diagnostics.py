"""Convergence diagnostics and the verdict that gates a fit before it reaches a decision."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

__all__ = ["FitDiagnostics", "Thresholds", "diagnose"]


@dataclass(frozen=True)
class Thresholds:
    max_rhat: float = 1.05
    min_ess: float = 100.0  # bulk effective sample size, smallest over all parameters
    max_divergent_share: float = 0.01


@dataclass(frozen=True)
class FitDiagnostics:
    max_rhat: float
    min_ess: float
    divergences: int
    draws: int
    chains: int
    thresholds: Thresholds = field(default_factory=Thresholds)
    worst: dict = field(default_factory=dict)  # parameter -> (rhat, ess) of the worst ones
    tree_depth: int | None = None  # NUTS's tree depth of these draws
    # why the first fit failed the gate, when this one is its retry at a deeper tree
    first_attempt: tuple[str, ...] = ()
    # samplings behind these draws: 1, 2 with the deeper retry, more with retries from new seeds
    attempts: int = 1

    @property
    def reasons(self) -> list[str]:
        t, out = self.thresholds, []
        if self.chains < 2:
            out.append("one chain: R-hat cannot be checked")
        if not np.isfinite(self.max_rhat) or self.max_rhat > t.max_rhat:
            out.append(f"R-hat {self.max_rhat:.3f} > {t.max_rhat}")
        if not np.isfinite(self.min_ess) or self.min_ess < t.min_ess:
            out.append(f"effective sample size {self.min_ess:.0f} < {t.min_ess:.0f}")
        if self.divergences > t.max_divergent_share * self.draws:
            out.append(f"{self.divergences} divergent transitions of {self.draws} draws")
        return out

    @property
    def ok(self) -> bool:
        """True when the fit converged: the only state in which it may feed a decision."""
        return not self.reasons

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "reasons": self.reasons,
            "max_rhat": self.max_rhat,
            "min_ess": self.min_ess,
            "divergences": self.divergences,
            "draws": self.draws,
            "chains": self.chains,
            "tree_depth": self.tree_depth,
            "first_attempt": list(self.first_attempt),
            "attempts": self.attempts,
        }


def diagnose(
    samples: dict[str, np.ndarray], diverging: np.ndarray, thresholds: Thresholds
) -> FitDiagnostics:
    """``samples``: name -> (chains, draws, ...) arrays; ``diverging``: (chains, draws)."""
    per_param = {}
    for name, value in samples.items():
        v = np.asarray(value, dtype=float).reshape(value.shape[0], value.shape[1], -1)
        if v.shape[2] == 0:  # a site with no coefficients (a model without controls)
            continue
        if v.shape[1] < 4:
            per_param[name] = (np.inf, 0.0)
            continue
        rhat = split_gelman_rubin(v) if v.shape[0] > 1 else np.full(v.shape[2], np.nan)
        ess = effective_sample_size(v)
        per_param[name] = (float(np.nanmax(rhat)) if v.shape[0] > 1 else np.inf, float(np.min(ess)))
    rhat = max(r for r, _ in per_param.values())
    ess = min(e for _, e in per_param.values())
    worst = dict(sorted(per_param.items(), key=lambda kv: -kv[1][0])[:5])
    chains, draws = diverging.shape
    return FitDiagnostics(
        rhat, ess, int(diverging.sum()), chains * draws, chains, thresholds, worst
    )
