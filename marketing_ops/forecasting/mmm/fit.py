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

__all__ = [
    "MMMFit",
    "SamplerSettings",
    "fit_mmm",
    "memory_maps_in_use",
    "release_compiled_programs",
]

# A further attempt's seed: far from the first so that the chains' own keys never coincide.
RETRY_SEED_STEP = 1000
# JAX's compiled programs are dropped after a fit once the process holds this share of the
# kernel's memory-map limit (``release_compiled_programs``).
MAX_MAP_SHARE = 0.5


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
    # 2026-12-07). A fit that converges at depth 6 costs nothing more.
    retry_tree_depth: int | None = 8
    # When the deeper retry fails too, this many more attempts at the retry depth, each from a
    # new seed (seed + 1000 k). Attempts that pass stay what they were (the first two are
    # unchanged), so a further attempt only ever turns a blocked fit into a passing one. Of
    # the 8 fits of bench_decisions (three seeds) and bench_mmm (40 worlds) that failed both,
    # the third attempt passed 3 (docs/decisions.md, 2026-12-07, "A third attempt ...").
    retry_seeds: int = 1
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

    A fit that fails the convergence gate is sampled once more at
    ``sampler.retry_tree_depth`` (with two chains or more: one chain fails for want of
    R-hat, which no depth mends); the second fit is kept, its diagnostics naming the first's
    reasons (``first_attempt``). If the retry fails too, up to ``sampler.retry_seeds`` more
    attempts at that depth start from new seeds; the first that passes is kept, else the
    last. ``attempts`` counts the samplings and ``seconds`` all of them. After the fit, JAX's
    compiled programs are dropped when the process is near its memory-map limit."""
    priors, sampler = priors or Priors(), sampler or SamplerSettings()
    thresholds = thresholds or Thresholds()
    inputs = model_inputs(data, priors, experiments)
    started = time.perf_counter()
    samples, diagnostics = _sample(inputs, priors, sampler, thresholds)
    deeper = sampler.retry_tree_depth or 0
    if not diagnostics.ok and sampler.chains >= 2 and deeper > sampler.max_tree_depth:
        first = tuple(diagnostics.reasons)
        retry = replace(sampler, max_tree_depth=deeper, retry_tree_depth=None)
        samples, diagnostics = _sample(inputs, priors, retry, thresholds)
        attempts = 2
        for k in range(1, sampler.retry_seeds + 1):
            if diagnostics.ok:
                break
            again = replace(retry, seed=sampler.seed + RETRY_SEED_STEP * k)
            samples, diagnostics = _sample(inputs, priors, again, thresholds)
            attempts += 1
        diagnostics = replace(diagnostics, first_attempt=first, attempts=attempts)
    seconds = time.perf_counter() - started
    release_compiled_programs()
    return MMMFit(data, inputs, priors, samples, diagnostics, seconds)


def memory_maps_in_use() -> tuple[int, int] | None:
    """(memory maps of this process, the kernel's limit ``vm.max_map_count``); None where
    /proc does not tell (not Linux)."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            used = sum(1 for _ in maps)
        with open("/proc/sys/vm/max_map_count") as limit:
            return used, int(limit.read())
    except (OSError, ValueError):
        return None


def release_compiled_programs(share: float = MAX_MAP_SHARE) -> bool:
    """Drop JAX's in-memory compiled programs when this process holds more than ``share`` of
    the kernel's memory-map limit; True when it did. Every fit compiles hundreds of small
    programs, each mapped into memory, and JAX keeps them for the process's life: a process
    that fitted ~25 times (bench_experiments) reached the default limit
    of 65,530 maps and LLVM failed with "Cannot allocate memory", then a segfault
    (docs/decisions.md, 2026-12-07). Dropped programs come back from the on-disk compile
    cache (``compile_cache``) at the next fit."""
    usage = memory_maps_in_use()
    if usage is None or usage[0] <= share * usage[1]:
        return False
    jax.clear_caches()
    return True


def _sample(
    inputs: ModelInputs, priors: Priors, sampler: SamplerSettings, thresholds: Thresholds
) -> tuple[dict[str, np.ndarray], FitDiagnostics]:
    """NUTS draws (name -> (chains * draws, ...)) and their diagnostics."""
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
    params = {k: v for k, v in by_chain.items() if k != "lift"}
    diagnostics = replace(
        diagnose(params, diverging, thresholds), tree_depth=sampler.max_tree_depth
    )
    flat = {k: v.reshape(v.shape[0] * v.shape[1], *v.shape[2:]) for k, v in by_chain.items()}
    return flat, diagnostics
