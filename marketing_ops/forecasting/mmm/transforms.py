"""Media transforms shared by the model, its posterior summaries and the budget curves.

Written with ``jax.numpy`` so the same function runs inside the NUTS sampler (one draw) and
vectorised over posterior draws afterwards. Adstock is geometric over a fixed lag window and
normalised (weights sum to 1), so a constant spend ``x`` has steady-state adstock ``x`` and the
half-saturation point reads in spend units.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["LAG_WINDOW", "adstock_weights", "hill", "lagged", "media_response"]

# Carry-over window per frequency: four weeks of days, ten weeks of weeks.
LAG_WINDOW = {"D": 28, "W": 10}


def lagged(spend: np.ndarray, window: int, before: np.ndarray | None = None) -> np.ndarray:
    """``(..., T, C)`` spend -> ``(..., T, L, C)`` with ``out[..., t, l, c] = spend[t - l, c]``.

    ``before`` holds the ``window - 1`` periods preceding the first row (carry-over from before
    the window); zeros when absent."""
    spend = np.asarray(spend, dtype=float)
    pad_shape = (*spend.shape[:-2], window - 1, spend.shape[-1])
    pad = np.zeros(pad_shape) if before is None else np.broadcast_to(before, pad_shape)
    full = np.concatenate([pad, spend], axis=-2)
    t = spend.shape[-2]
    idx = np.arange(t)[:, None] + window - 1 - np.arange(window)[None, :]
    return full[..., idx, :]


def adstock_weights(decay, window: int):
    """Normalised geometric weights ``(L, C)`` for decays ``(C,)``."""
    powers = decay[None, :] ** jnp.arange(window)[:, None]
    return powers / powers.sum(axis=0, keepdims=True)


def hill(x, half_saturation, shape):
    """Hill saturation in [0, 1): 0.5 at ``half_saturation``."""
    xs = jnp.power(jnp.maximum(x, 0.0) + 1e-12, shape)
    return xs / (xs + jnp.power(half_saturation, shape))


def media_response(spend_lagged, decay, half_saturation, shape, window: int):
    """Saturated adstock ``(..., T, C)`` in [0, 1) from scaled lagged spend ``(..., T, L, C)``."""
    weights = adstock_weights(decay, window)
    ad = jnp.einsum("...tlc,lc->...tc", spend_lagged, weights)
    return hill(ad, half_saturation, shape)
