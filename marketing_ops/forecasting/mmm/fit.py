"""Fit the media mix model with NUTS and keep what the summaries need."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import jax
import numpy as np
import numpyro.optim
from numpyro.infer import MCMC, NUTS, SVI, Trace_ELBO, init_to_median, init_to_value
from numpyro.infer.autoguide import AutoNormal

from marketing_ops.forecasting.mmm.data import MMMData
from marketing_ops.forecasting.mmm.diagnostics import FitDiagnostics, Thresholds, diagnose
from marketing_ops.forecasting.mmm.model import (
    ExperimentArrays,
    ModelInputs,
    Priors,
    mmm_model,
    model_inputs,
)

__all__ = ["MMMFit", "SamplerSettings", "fit_mmm"]


@dataclass(frozen=True)
class SamplerSettings:
    warmup: int = 500
    draws: int = 500
    chains: int = 2
    seed: int = 0
    target_accept: float = 0.9
    # Capped trees: the saturation's flat directions (half-saturation far above spend) sent
    # every draw to 255 leapfrog steps at depth 8; depth 6 bounds a draw at 63 and the
    # diagnostics (ESS, R-hat) say whether the chains still mixed.
    max_tree_depth: int = 6
    # A fit that fails the convergence gate at max_tree_depth is sampled once more at this
    # depth (0 or None: never). Lift tests curve the posterior (a test pins the response
    # between two spend levels, so effect and saturation trade off along a ridge) and capped
    # trees stop mixing there: on six benchmark worlds with a holdout and a spend-up per
    # channel, 4 fits of 6 converged at depth 6 and 6 at depth 8 (docs/decisions.md,
    # 2026-12-07). A fit that converges at depth 6 costs nothing more. A fit short of
    # effective samples alone first gets as many chains again at this depth (``fit_mmm``).
    retry_tree_depth: int | None = 8
    # The media parameters are strongly correlated: one dense matrix (True), diagonal (False)
    # or dense blocks, a tuple of tuples of site names.
    dense_mass: bool | tuple = True
    # Chains start from the prior's median per site ("median") or from a short variational
    # fit's median ("svi", ``svi_steps`` Adam steps).
    init: str = "median"
    svi_steps: int = 1000


@dataclass
class MMMFit:
    data: MMMData
    inputs: ModelInputs
    priors: Priors
    samples: dict[str, np.ndarray]  # name -> (chains * draws, ...)
    diagnostics: FitDiagnostics
    seconds: float

    def draws(self, n: int | None = None) -> dict[str, np.ndarray]:
        """Up to ``n`` posterior draws, evenly thinned."""
        total = next(iter(self.samples.values())).shape[0]
        idx = np.linspace(0, total - 1, min(n or total, total)).astype(int)
        return {k: v[idx] for k, v in self.samples.items()}


def _init_strategy(inputs: ModelInputs, priors: Priors, sampler: SamplerSettings):
    """Where the chains start: the prior's median per site, or a variational fit's median."""
    if sampler.init != "svi":
        return init_to_median
    guide = AutoNormal(mmm_model, init_loc_fn=init_to_median)
    svi = SVI(mmm_model, guide, numpyro.optim.Adam(0.02), Trace_ELBO())
    key = jax.random.PRNGKey(sampler.seed + 1)
    result = svi.run(key, sampler.svi_steps, inputs, priors, progress_bar=False)
    return init_to_value(values=guide.median(result.params))


def fit_mmm(
    data: MMMData,
    priors: Priors | None = None,
    sampler: SamplerSettings | None = None,
    experiments: ExperimentArrays | None = None,
    thresholds: Thresholds | None = None,
) -> MMMFit:
    """Sample the posterior; chains run one after the other (the machine's cores are shared).

    A fit that fails the convergence gate (with two chains or more: one chain fails for want
    of R-hat, which no retry mends) is sampled again, its diagnostics naming the first's
    reasons (``first_attempt``), and ``seconds`` counts every attempt:

    - short of effective samples alone, by at most half (R-hat and divergences within the
      gate): as many chains again, the same sampler from another seed, judged together with
      the first (``chains`` doubles); kept when the pooled chains pass the gate. More chains of
      a sampler that mixes are what a short ESS asks for; a deeper tree re-adapts from scratch
      and can do worse (docs/decisions.md, 2026-12-07: ESS 98 at depth 6, 30 with 43
      divergences at depth 8);
    - otherwise, or when the pooled chains still fail: once more at
      ``sampler.retry_tree_depth``, and that fit is kept.

    Every attempt draws from its own seed (the added chains ``seed + 1``, the deeper fit
    ``seed + 2``): a pair of chains that adapted badly (divergent, stuck) is a draw of the
    sampler, and the same seed at another depth met the same trouble (2026-12-07: at depth 6
    seeds 0, 1, 2 of one fit gave ESS 98; ESS 31 with 55 divergences; ESS 233, passing)."""
    priors, sampler = priors or Priors(), sampler or SamplerSettings()
    thresholds = thresholds or Thresholds()
    inputs = model_inputs(data, priors, experiments)
    started = time.perf_counter()
    chains, diverging = _sample(inputs, priors, sampler)
    diagnostics = _diagnose(chains, diverging, thresholds, sampler.max_tree_depth)
    first, kept_first = tuple(diagnostics.reasons), True
    if not diagnostics.ok and sampler.chains >= 2 and short_of_samples_alone(diagnostics):
        more, more_diverging = _sample(inputs, priors, replace(sampler, seed=sampler.seed + 1))
        pooled = {k: np.concatenate([chains[k], more[k]]) for k in chains}
        pooled_diverging = np.concatenate([diverging, more_diverging])
        judged = _diagnose(pooled, pooled_diverging, thresholds, sampler.max_tree_depth)
        if judged.ok:
            chains, diverging, diagnostics, kept_first = pooled, pooled_diverging, judged, False
    deeper = sampler.retry_tree_depth or 0
    if not diagnostics.ok and sampler.chains >= 2 and deeper > sampler.max_tree_depth:
        retry = replace(
            sampler, max_tree_depth=deeper, retry_tree_depth=None, seed=sampler.seed + 2
        )
        chains, diverging = _sample(inputs, priors, retry)
        diagnostics, kept_first = _diagnose(chains, diverging, thresholds, deeper), False
    if not kept_first:
        diagnostics = replace(diagnostics, first_attempt=first)
    samples = {k: v.reshape(v.shape[0] * v.shape[1], *v.shape[2:]) for k, v in chains.items()}
    seconds = time.perf_counter() - started
    return MMMFit(data, inputs, priors, samples, diagnostics, seconds)


def short_of_samples_alone(diagnostics: FitDiagnostics) -> bool:
    """The gate failed on effective sample size alone, by at most half: twice the chains of
    the same sampler would clear it."""
    t = diagnostics.thresholds
    only_ess = diagnostics.reasons == [
        f"effective sample size {diagnostics.min_ess:.0f} < {t.min_ess:.0f}"
    ]
    return only_ess and np.isfinite(diagnostics.min_ess) and diagnostics.min_ess >= t.min_ess / 2


def _diagnose(chains, diverging, thresholds: Thresholds, depth: int) -> FitDiagnostics:
    params = {k: v for k, v in chains.items() if k != "lift"}
    return replace(diagnose(params, diverging, thresholds), tree_depth=depth)


def _sample(
    inputs: ModelInputs, priors: Priors, sampler: SamplerSettings
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """NUTS draws by chain (name -> (chains, draws, ...)) and their divergences (chains, draws)."""
    kernel = NUTS(
        mmm_model,
        target_accept_prob=sampler.target_accept,
        max_tree_depth=sampler.max_tree_depth,
        init_strategy=_init_strategy(inputs, priors, sampler),
        dense_mass=[tuple(b) for b in sampler.dense_mass]
        if isinstance(sampler.dense_mass, (list, tuple))
        else sampler.dense_mass,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=sampler.warmup,
        num_samples=sampler.draws,
        num_chains=sampler.chains,
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(sampler.seed), inputs, priors, extra_fields=("diverging",))
    by_chain = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    diverging = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"])
    return by_chain, diverging
