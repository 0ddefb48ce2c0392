"""Spend-response curves: geometric adstock followed by Hill saturation.

This is the shared functional form: the simulator's true response, the fitted model in
:mod:`marketing_ops.forecasting.response` and the budget optimiser all use it, so a recovered
curve can be compared with the true one parameter by parameter.

    adstock[t]  = spend[t] + decay * adstock[t-1]
    response[t] = index[t] * max_response * adstock[t]**shape / (adstock[t]**shape + half_saturation**shape)

``index`` is a multiplicative seasonality index (1.0 = an average day).
Conversions are per day; revenue = conversions * value_per_conversion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import lfilter

__all__ = ["ResponseCurve", "adstock", "hill"]


def adstock(spend: np.ndarray, decay: float, initial: float = 0.0) -> np.ndarray:
    """Geometric carry-over of spend. ``initial`` is the adstock carried in from before day 0.

    A first-order recursive filter (``lfilter``): the response fit evaluates it thousands of
    times per channel, where a Python loop over two years of days dominated the fit time."""
    spend = np.asarray(spend, dtype=float)
    if spend.size == 0:
        return spend.copy()
    out, _ = lfilter([1.0], [1.0, -float(decay)], spend, zi=[float(decay) * float(initial)])
    return out


def hill(x: np.ndarray, half_saturation: float, shape: float) -> np.ndarray:
    """Hill saturation in [0, 1): 0 at x=0, 0.5 at x=half_saturation."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    xs = np.power(x, shape)
    return xs / (xs + half_saturation**shape)


@dataclass(frozen=True)
class ResponseCurve:
    """Incremental conversions a channel's spend buys, per day."""

    channel: str
    decay: float
    half_saturation: float
    shape: float
    max_response: float
    value_per_conversion: float

    def conversions(
        self, daily_spend: np.ndarray, index: np.ndarray | None = None, initial_adstock: float = 0.0
    ) -> np.ndarray:
        """Expected incremental conversions per day for a spend path."""
        a = adstock(daily_spend, self.decay, initial_adstock)
        idx = 1.0 if index is None else np.asarray(index, dtype=float)
        return idx * self.max_response * hill(a, self.half_saturation, self.shape)

    def steady_state_conversions(self, daily_spend: float | np.ndarray) -> np.ndarray:
        """Conversions per day once a constant daily spend has fully carried over."""
        a = np.asarray(daily_spend, dtype=float) / (1.0 - self.decay)
        return self.max_response * hill(a, self.half_saturation, self.shape)

    def steady_state_revenue(self, daily_spend: float | np.ndarray) -> np.ndarray:
        return self.steady_state_conversions(daily_spend) * self.value_per_conversion

    def marginal_roi(self, daily_spend: float | np.ndarray, step: float = 1.0) -> np.ndarray:
        """Revenue the next unit of daily spend adds, at steady state."""
        s = np.asarray(daily_spend, dtype=float)
        return (self.steady_state_revenue(s + step) - self.steady_state_revenue(s)) / step

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ResponseCurve:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})
