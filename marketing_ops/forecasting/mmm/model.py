"""The Bayesian media mix model of the total KPI (numpyro).

    kpi[g, t] / scale[g] = intercept[g] + trend * t + seasonality[t] + holidays[t] + controls[g, t]
                           + sum_c beta[g, c] * mult[t, c] * hill(adstock(spend[g, :, c]))[t] / scale[g]

Each channel's effect is parameterised by its ROI (Meridian style): ``beta`` is set so that the
channel's modelled contribution over the history, at the current effect level, equals
``roi * spend``. The ROI prior is log-normal, its median ``media_share * total KPI / total
spend`` (a channel's prior contribution in proportion to its spend share), raised for a channel
whose prior contribution would be under ``min_channel_share`` of the KPI (a channel of nominal
cost, such as email, keeps a prior it can reach). Geos pool each channel's ROI toward the
national one (log-normal spread).
``mult`` is piecewise constant over half-year segments of the history (26 weeks / 182 days,
counted from the end), a random walk of the log effect pinned to 1 on the last segment: the
model's current effect is what the newest data says, and a mid-history shock moves the older
segments instead of being averaged away. The walk's steps are normal with a FIXED scale
(``tv_sigma``): a learned per-channel scale and short (8-week) segments let the chains drift
along the walk's trade-off with trend and ROI and never mix (docs/decisions.md, 2026-12-05).
A detected break in a channel's response (``Priors.breaks``) splits the segment it falls in,
so the current effect is the level after the break, not an average over both sides, and that
channel's step at the break has the wide scale ``break_sigma`` (a break is a jump, not drift:
at ``tv_sigma`` a halving is a 2.3-sigma step the prior holds back) (docs/decisions.md,
2026-12-06). Lift tests enter as Normal likelihood terms on the
channel's incremental contribution over the test window, at the effect level of the test's
own periods.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd

from marketing_ops.forecasting.mmm.data import MMMData, base_features
from marketing_ops.forecasting.mmm.transforms import adstock_weights, hill, lagged, media_response

__all__ = [
    "ExperimentArrays",
    "ModelInputs",
    "Priors",
    "channel_beta",
    "geo_roi",
    "mmm_model",
    "model_inputs",
    "segment_multiplier",
]


@dataclass(frozen=True)
class Priors:
    """Prior settings; every one is a modelling choice recorded in docs/decisions.md."""

    media_share: float = 0.3  # prior median share of the KPI driven by media
    # Floor of each channel's prior median contribution, as a share of the KPI. A channel
    # whose cost is nominal (email: a fifth of a cent per send) had a prior contribution in
    # proportion to its spend, near nothing, and the model gave its whole effect to the base
    # (8 market worlds: email 0.3 % of its true ROAS; at 0.01, 50-75 %; no channel of the
    # 40 weekly benchmark worlds is under the floor; docs/decisions.md, 2026-12-07)
    min_channel_share: float = 0.01
    roi_sigma: float = 1.0  # log-normal spread of each channel's ROI
    decay_a: float = 2.0  # Beta(a, b) carry-over per period
    decay_b: float = 3.0
    # Half-saturation, log-normal in units of the channel's mean (positive) spend per period.
    half_saturation_median: float = 1.0
    half_saturation_sigma: float = 0.5
    # Beta(a, b) prior on each channel's saturation at its mean spend (the share of its
    # maximum response that its mean spend reaches, steady state), the half-saturation then
    # following from it and the shape; None: the log-normal half-saturation prior above
    saturation_a: float | None = None
    saturation_b: float | None = None
    shape_median: float = 1.5
    shape_sigma: float = 0.35
    geo_sigma: float = 0.3  # half-normal spread of geo ROI around the channel's
    time_varying: bool = True
    segment_periods: dict | None = None  # periods per effect segment; default 26 weeks
    tv_sigma: float = 0.3  # scale of the log effect's step per segment
    tv_df: float | None = None  # Student-t steps (a shock is one large jump); None: normal
    tv_learn_sigma: bool = False  # tv_sigma is a hyperprior's scale (True) or the fixed step scale
    # (channel, ISO day) of detected breaks in a channel's response: the segment holding the
    # day is split there when both parts keep SPLIT_MIN of a segment's periods, and the
    # channel's step at that new boundary has the scale break_sigma
    breaks: tuple[tuple[str, str], ...] = ()
    break_sigma: float = 1.0

    def split_at(self, breaks: dict) -> Priors:
        """These priors with ``breaks`` (channel -> its break, anything with ``.day``: a
        detected :class:`~marketing_ops.measurement.drift.ResponseBreak` or a user's
        ``byod.GivenBreak``) as :attr:`breaks`; none: the priors unchanged."""
        return replace(self, breaks=tuple((c, str(b.day)) for c, b in sorted(breaks.items())))


@dataclass(frozen=True)
class ExperimentArrays:
    """Lift tests as arrays: the high- and low-spend arms' lagged scaled spend per test day."""

    channel: np.ndarray  # (E,)
    geo: np.ndarray  # (E,)
    periods: np.ndarray  # (E, N) period indices, padded
    mask: np.ndarray  # (E, N)
    high: np.ndarray  # (E, N, L)
    low: np.ndarray  # (E, N, L)
    lift: np.ndarray  # (E,) KPI units
    se: np.ndarray  # (E,)


@dataclass(frozen=True)
class ModelInputs:
    spend_lagged: np.ndarray  # (G, T, L, C) scaled
    spend_total: np.ndarray  # (G, C) original units
    spend_scale: np.ndarray  # (C,)
    kpi_scale: np.ndarray  # (G,)
    kpi_scaled: np.ndarray  # (G, T)
    trend: np.ndarray
    seasonality: np.ndarray
    holidays: np.ndarray
    controls: np.ndarray  # (G, T, K) standardised
    segment: np.ndarray  # (T,) effect segment of each period
    roi_median: np.ndarray  # (C,)
    window: int
    experiments: ExperimentArrays | None = None
    step_scale: np.ndarray | None = None  # (segments - 1, C) scale of each step / tv_sigma


SEGMENT_PERIODS = {"D": 182, "W": 26}
SPLIT_MIN = 1 / 8  # of a segment's periods, each side of a break that splits it (22 days)


def _segments(n: int, length: int, starts=()) -> np.ndarray:
    """Segment index per period, counted so the LAST segment is full (it sets the current
    effect); then each of ``starts`` (period indices) splits the segment holding it, when
    both parts keep ``SPLIT_MIN`` of a segment's periods (a break near a boundary is left to
    the boundary)."""
    from_end = (n - 1 - np.arange(n)) // length
    if n > length and n % length and n % length < length / 2:
        # a leading stub shorter than half a segment joins the next one (a parameter that only
        # a few periods inform is a direction the sampler wanders along)
        from_end = np.minimum(from_end, from_end.max() - 1)
    seg = from_end.max() - from_end
    least = max(2, int(np.ceil(SPLIT_MIN * length)))
    for start in sorted(int(s) for s in starts):
        if not 0 < start < n:
            continue
        holder = seg == seg[start]
        idx = np.arange(n)
        if (holder & (idx < start)).sum() >= least and (holder & (idx >= start)).sum() >= least:
            seg = seg + (idx >= start)
    return seg


def _break_steps(segment: np.ndarray, starts: list[tuple[int, int]], n_ch: int, wide: float):
    """``(segments - 1, C)`` step scale relative to ``tv_sigma``: ``wide`` for each (channel,
    start period) break's channel at the boundary the break made, else 1. A break too near a
    boundary to split its segment keeps the boundary's usual step: widened there, the
    sampler diverged (two daily years, a break one day before a half-year boundary:
    docs/decisions.md, 2026-12-06)."""
    scale = np.ones((int(segment.max()), n_ch))
    bounds = np.flatnonzero(np.diff(segment)) + 1  # first period of segments 1, 2, ...
    for c, start in starts:
        at = np.flatnonzero(bounds == start)
        scale[at, c] = wide
    return scale


def _roi_median(data: MMMData, priors: Priors) -> np.ndarray:
    """Each channel's ROI prior median ``(C,)``: ``media_share`` of the KPI over all spend
    (a channel's prior contribution in proportion to its spend), raised so that the prior
    contribution is at least ``min_channel_share`` of the KPI."""
    kpi, spend = data.kpi.sum(), data.spend.sum(axis=(0, 1))
    shared = np.full(len(spend), priors.media_share * kpi / max(spend.sum(), 1e-9))
    floor = np.divide(
        priors.min_channel_share * kpi, spend, out=np.zeros_like(shared), where=spend > 0
    )
    return np.maximum(shared, floor)


def model_inputs(data: MMMData, priors: Priors, experiments: ExperimentArrays | None = None):
    spend_pos = np.where(data.spend > 0, data.spend, np.nan)
    scale = np.nan_to_num(np.nanmean(spend_pos.reshape(-1, len(data.channels)), axis=0), nan=1.0)
    kpi_scale = data.kpi.mean(axis=1)
    trend, seasonality, holidays = base_features(data.dates, data.freq)
    flat = (
        data.controls.reshape(-1, data.controls.shape[-1])
        if data.controls.size
        else np.zeros((1, 0))
    )
    sd = flat.std(axis=0)
    ctrl = (data.controls - flat.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    seg_len = (priors.segment_periods or SEGMENT_PERIODS)[data.freq]
    starts = [
        (data.channels.index(c), int(np.searchsorted(data.dates, pd.Timestamp(d))))
        for c, d in priors.breaks
        if c in data.channels
    ]
    segment = _segments(data.n_periods, seg_len, [s for _, s in starts])
    return ModelInputs(
        spend_lagged=lagged(data.spend / scale, data.window),
        spend_total=data.spend.sum(axis=1),
        spend_scale=scale,
        kpi_scale=kpi_scale,
        kpi_scaled=data.kpi / kpi_scale[:, None],
        trend=trend,
        seasonality=seasonality,
        holidays=holidays,
        controls=ctrl,
        segment=segment,
        roi_median=_roi_median(data, priors),
        window=data.window,
        experiments=experiments,
        step_scale=_break_steps(
            segment, starts, len(data.channels), priors.break_sigma / priors.tv_sigma
        ),
    )


def channel_beta(roi, response, spend_total):
    """Scale of each channel's response ``(G, C)`` so contribution / spend = ROI over the history."""
    return roi * spend_total / (response.sum(axis=-2) + 1e-6)


def effect_multiplier(steps, segment):
    """``(T, C)`` effect multiplier: random walk over segments, 1 on the last one."""
    walk = jnp.cumsum(steps[::-1], axis=0)[::-1]
    logm = jnp.concatenate([walk, jnp.zeros((1, steps.shape[1]))], axis=0)
    return jnp.exp(logm[segment])


def geo_roi(roi, geo_sigma=None, geo_z=None):
    """ROI per geo and channel ``(G, C)`` (or ``(C,)`` for a national model)."""
    return roi if geo_z is None else roi[None, :] * jnp.exp(geo_sigma * geo_z)


def segment_multiplier(segment, n_ch: int, tv_sigma=None, tv_z=None, step_scale=None):
    """``(T, C)`` effect multiplier; all ones when the effect is constant over time.
    ``step_scale`` ``(segments - 1, C)``: each step's scale relative to ``tv_sigma``."""
    if tv_z is None:
        return jnp.ones((len(segment), n_ch))
    scale = tv_sigma if step_scale is None else tv_sigma * step_scale
    return effect_multiplier(scale * tv_z, segment)


def _media(x: ModelInputs, priors: Priors, n_geo: int, n_ch: int):
    decay = numpyro.sample(
        "decay", dist.Beta(priors.decay_a, priors.decay_b).expand([n_ch]).to_event(1)
    )
    shape = numpyro.sample(
        "shape",
        dist.LogNormal(np.log(priors.shape_median), priors.shape_sigma).expand([n_ch]).to_event(1),
    )
    if priors.saturation_a:
        # hill(1, h, s) = 1 / (1 + h^s) = saturation: h = ((1 - saturation) / saturation)^(1/s)
        saturation = numpyro.sample(
            "saturation",
            dist.Beta(priors.saturation_a, priors.saturation_b).expand([n_ch]).to_event(1),
        )
        half = numpyro.deterministic(
            "half_saturation", jnp.power((1.0 - saturation) / saturation, 1.0 / shape)
        )
    else:
        half = numpyro.sample(
            "half_saturation",
            dist.LogNormal(np.log(priors.half_saturation_median), priors.half_saturation_sigma)
            .expand([n_ch])
            .to_event(1),
        )
    roi = numpyro.sample(
        "roi", dist.LogNormal(np.log(x.roi_median), priors.roi_sigma).expand([n_ch]).to_event(1)
    )
    geo = {}
    if n_geo > 1:
        geo["geo_sigma"] = numpyro.sample("geo_sigma", dist.HalfNormal(priors.geo_sigma))
        geo["geo_z"] = numpyro.sample(
            "geo_z", dist.Normal(0.0, 1.0).expand([n_geo, n_ch]).to_event(2)
        )
    n_seg = int(x.segment.max()) + 1
    tv = {}
    if priors.time_varying and n_seg > 1:
        tv["tv_sigma"] = (
            numpyro.sample("tv_sigma", dist.HalfNormal(priors.tv_sigma).expand([n_ch]).to_event(1))
            if priors.tv_learn_sigma
            else jnp.full(n_ch, priors.tv_sigma)
        )
        step = dist.StudentT(priors.tv_df, 0.0, 1.0) if priors.tv_df else dist.Normal(0.0, 1.0)
        tv["tv_z"] = numpyro.sample("tv_z", step.expand([n_seg - 1, n_ch]).to_event(2))
    if tv:
        tv["step_scale"] = x.step_scale
    return decay, half, shape, geo_roi(roi, **geo), segment_multiplier(x.segment, n_ch, **tv)


def _lift(x: ModelInputs, decay, half, shape, beta, mult):
    e = x.experiments
    w = adstock_weights(decay, x.window)[:, e.channel]  # (L, E)
    hi = hill(
        jnp.einsum("enl,le->en", e.high, w), half[e.channel][:, None], shape[e.channel][:, None]
    )
    lo = hill(
        jnp.einsum("enl,le->en", e.low, w), half[e.channel][:, None], shape[e.channel][:, None]
    )
    b = beta[e.geo, e.channel][:, None] * mult[e.periods, e.channel[:, None]]
    return (b * (hi - lo) * e.mask).sum(axis=1)


def mmm_model(x: ModelInputs, priors: Priors, observe: bool = True) -> None:
    n_geo, _, _, n_ch = x.spend_lagged.shape
    decay, half, shape, roi, mult = _media(x, priors, n_geo, n_ch)
    response = media_response(x.spend_lagged, decay, half, shape, x.window)  # (G, T, C)
    beta = channel_beta(roi, response, x.spend_total)
    media = (beta[:, None, :] * mult[None] * response).sum(axis=-1) / x.kpi_scale[:, None]
    intercept = numpyro.sample(
        "intercept", dist.Normal(1.0 - priors.media_share, 0.5).expand([n_geo]).to_event(1)
    )
    trend = numpyro.sample("trend", dist.Normal(0.0, 0.3))
    gamma = numpyro.sample(
        "seasonality", dist.Normal(0.0, 0.2).expand([x.seasonality.shape[1]]).to_event(1)
    )
    eta = numpyro.sample(
        "holidays", dist.Normal(0.0, 0.3).expand([x.holidays.shape[1]]).to_event(1)
    )
    delta = numpyro.sample(
        "controls", dist.Normal(0.0, 0.2).expand([x.controls.shape[-1]]).to_event(1)
    )
    base = trend * x.trend + x.seasonality @ gamma + x.holidays @ eta
    mu = intercept[:, None] + base[None, :] + x.controls @ delta + media
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.3))
    numpyro.sample("kpi", dist.Normal(mu, sigma).to_event(2), obs=x.kpi_scaled if observe else None)
    if x.experiments is not None:
        lift = numpyro.deterministic("lift", _lift(x, decay, half, shape, beta, mult))
        numpyro.sample(
            "lift_obs",
            dist.Normal(lift, x.experiments.se).to_event(1),
            obs=x.experiments.lift if observe else None,
        )
