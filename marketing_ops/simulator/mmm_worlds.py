"""Aggregate-level seeded worlds for media-mix calibration studies, with their ground truth.

A world is a KPI series (daily or weekly, national or per geo):

    kpi = base (trend, weekly + yearly seasonality, holidays) + controls
          + sum_c roi-scaled hill(adstock(spend_c)) * shock_c + noise

with per-channel carry-over, half-saturation and shape (one channel with long carry-over, one
saturated), an optional mid-history shock on one channel, and ad-platform reported revenue that
over-claims (multiplies the true incremental revenue and claims part of the base). The truth
uses the same normalised geometric adstock over the same lag window as the model, so recovery
is measured within the model family; the noise, the priors' mismatch and the over-claiming are
what the model must see through.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ChannelTruth",
    "MMMWorld",
    "MMMWorldConfig",
    "lift_tests",
    "make_mmm_world",
    "read_ground_truth",
    "true_incremental",
    "with_spend",
]

CHANNEL_NAMES = ("tv", "search", "social", "display", "video", "audio", "ooh", "print")
LAG = {"D": 28, "W": 10}
PERIOD_DAYS = {"D": 1, "W": 7}


@dataclass(frozen=True)
class ChannelTruth:
    name: str
    decay: float  # per period
    half_saturation: float  # in adstocked spend per period (currency)
    shape: float
    beta: float  # KPI per period at full saturation, before the shock
    overclaim: float  # platform-reported / true incremental
    shock_from: int | None = None  # period index where the effect changes
    shock_multiplier: float = 1.0
    geo_multipliers: tuple[float, ...] = (1.0,)


@dataclass(frozen=True)
class MMMWorldConfig:
    seed: int = 0
    freq: str = "D"
    periods: int = 730
    channels: int = 6
    geos: int = 1
    shock: bool = False
    noise: float = 0.04  # KPI noise sd as a share of the mean base
    media_share: float = 0.3
    start: date = date(2024, 1, 1)


@dataclass
class MMMWorld:
    config: MMMWorldConfig
    frame: (
        pd.DataFrame
    )  # date, geo, revenue, spend per channel (named by it), <ch>_platform_revenue, price, promo
    channels: list[ChannelTruth]
    contributions: pd.DataFrame  # date, geo, channel, spend, incremental_revenue
    roas: dict[str, float] = field(default_factory=dict)
    counterfactual: dict[str, dict[float, float]] = field(default_factory=dict)

    @property
    def spend_columns(self) -> list[str]:
        return [c.name for c in self.channels]

    def platform_roas(self) -> dict[str, float]:
        f = self.frame
        return {
            c.name: f[f"{c.name}_platform_revenue"].sum() / f[c.name].sum() for c in self.channels
        }

    def write_ground_truth(self, directory: Path) -> None:
        """The same files the market simulator writes: channel_contributions.csv + response.json."""
        directory.mkdir(parents=True, exist_ok=True)
        self.contributions.to_csv(directory / "channel_contributions.csv", index=False)
        doc = {"channels": [asdict(c) for c in self.channels], "roas": self.roas}
        doc["counterfactual"] = {
            c: {str(k): v for k, v in m.items()} for c, m in self.counterfactual.items()
        }
        (directory / "response.json").write_text(json.dumps(doc, indent=2))


def _weights(decay: float, window: int) -> np.ndarray:
    w = decay ** np.arange(window)
    return w / w.sum()


def true_incremental(ch: ChannelTruth, spend: np.ndarray, freq: str) -> np.ndarray:
    """True incremental KPI per period ``(G, T)`` for a spend path ``(G, T)``."""
    window = LAG[freq]
    padded = np.concatenate([np.zeros((spend.shape[0], window - 1)), spend], axis=1)
    ad = np.stack(
        [
            np.convolve(row, _weights(ch.decay, window))[window - 1 : window - 1 + spend.shape[1]]
            for row in padded
        ]
    )
    xs = np.power(ad, ch.shape)
    resp = ch.beta * xs / (xs + ch.half_saturation**ch.shape)
    mult = np.ones(spend.shape[1])
    if ch.shock_from is not None:
        mult[ch.shock_from :] = ch.shock_multiplier
    return resp * mult[None, :] * np.asarray(ch.geo_multipliers)[:, None]


def _spend(
    rng: np.random.Generator, g: int, t: int, level: float, flighted: bool, sizes
) -> np.ndarray:
    noise = rng.lognormal(0.0, 0.45, size=(g, t))
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (np.arange(t) / t * 2 + rng.uniform()))
    spend = level * noise * season[None, :] * sizes[:, None]
    if flighted:  # bursts: on for a few weeks, off for a few
        on = np.repeat(rng.uniform(size=t // 7 + 1) < 0.6, 7)[:t]
        spend = spend * on[None, :]
    return spend


def _channels(
    rng, config: MMMWorldConfig, levels: np.ndarray, base_total: float, spend
) -> list[ChannelTruth]:
    n, d = config.channels, config.freq == "D"
    roas = rng.uniform(0.6, 3.5, size=n)
    shares = roas * spend.sum(axis=(1, 2)) if spend is not None else roas
    roas = roas * config.media_share * base_total / (1 - config.media_share) / shares.sum()
    out = []
    for i in range(n):
        decay = (0.85 if d else 0.55) if i == 0 else rng.uniform(0.05, 0.6 if d else 0.35)
        half = levels[i] * (0.35 if i == 1 else rng.uniform(0.7, 1.6))  # channel 1 is saturated
        shock = int(config.periods * 0.65) if (config.shock and i == 1) else None
        geo_m = tuple(np.exp(rng.normal(0, 0.15, size=config.geos)))
        out.append(
            ChannelTruth(
                CHANNEL_NAMES[i],
                float(decay),
                float(half),
                float(rng.uniform(1.0, 2.2)),
                float(roas[i]),
                float(rng.uniform(1.3, 2.5)),
                shock,
                0.5,
                geo_m,
            )
        )
    return out


def _calibrate(ch: ChannelTruth, spend: np.ndarray, target_roas: float, freq: str) -> ChannelTruth:
    unit = true_incremental(ch.__class__(**{**asdict(ch), "beta": 1.0}), spend, freq).sum()
    return ChannelTruth(**{**asdict(ch), "beta": float(target_roas * spend.sum() / unit)})


def _base(rng, config: MMMWorldConfig, dates: pd.DatetimeIndex, level: float) -> np.ndarray:
    t_days = np.asarray((dates - dates[0]).days, dtype=float)
    yearly = 0.12 * np.sin(2 * np.pi * t_days / 365.25 + rng.uniform(0, 6.28))
    weekly = 0.08 * np.sin(2 * np.pi * t_days / 7 + 1.0) if config.freq == "D" else 0.0
    trend = 0.1 * t_days / 365.25
    hol = np.zeros(len(dates))
    for d in dates:
        for bump_day, size in ((date(d.year, 11, 29), 0.35), (date(d.year, 12, 24), 0.2)):
            if d.date() <= bump_day < d.date() + timedelta(days=PERIOD_DAYS[config.freq]):
                hol[dates.get_loc(d)] += size
    return level * (1 + yearly + weekly + trend + hol)


def make_mmm_world(config: MMMWorldConfig) -> MMMWorld:
    rng = np.random.default_rng(config.seed)
    g, t = config.geos, config.periods
    dates = pd.date_range(config.start, periods=t, freq="D" if config.freq == "D" else "W-MON")
    sizes = rng.uniform(0.5, 1.5, size=g) if g > 1 else np.ones(1)
    levels = rng.uniform(1_000, 8_000, size=config.channels) * PERIOD_DAYS[config.freq]
    spend = np.stack(
        [_spend(rng, g, t, levels[i], i in (0, 4), sizes) for i in range(config.channels)]
    )
    base_level = 60_000.0 * PERIOD_DAYS[config.freq]
    base = sizes[:, None] * _base(rng, config, dates, base_level)[None, :]
    price = rng.normal(0, 1, size=(g, t))
    promo = (rng.uniform(size=(g, t)) < 0.08).astype(float)
    controls = base_level * sizes[:, None] * (-0.03 * price + 0.1 * promo)
    chans = _channels(rng, config, levels, base.sum() + controls.sum(), spend)
    chans = [_calibrate(ch, spend[i], ch.beta, config.freq) for i, ch in enumerate(chans)]
    incr = np.stack([true_incremental(ch, spend[i], config.freq) for i, ch in enumerate(chans)])
    noise = rng.normal(0, config.noise * base_level, size=(g, t)) * np.sqrt(sizes)[:, None]
    kpi = base + controls + incr.sum(axis=0) + noise
    return _assemble(config, dates, chans, spend, incr, kpi, price, promo, base, rng)


def _assemble(config, dates, chans, spend, incr, kpi, price, promo, base, rng) -> MMMWorld:
    g = config.geos
    geo_names = [f"geo{i}" for i in range(g)] if g > 1 else ["national"]
    rows = {
        "date": np.tile(dates, g),
        "geo": np.repeat(geo_names, len(dates)),
        "revenue": kpi.ravel(),
        "price": price.ravel(),
        "promo": promo.ravel(),
    }
    share = spend / np.maximum(spend.sum(axis=0, keepdims=True), 1e-9)
    for i, ch in enumerate(chans):
        claimed = incr[i] * ch.overclaim + 0.06 * base * share[i] * (1 + i % 2)
        rows[ch.name] = spend[i].ravel()
        rows[f"{ch.name}_platform_revenue"] = (
            claimed * rng.lognormal(0, 0.1, size=claimed.shape)
        ).ravel()
    frame = pd.DataFrame(rows)
    if g == 1:
        frame = frame.drop(columns="geo")
    contrib = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": np.tile(dates, g),
                    "geo": np.repeat(geo_names, len(dates)),
                    "channel": ch.name,
                    "spend": spend[i].ravel(),
                    "incremental_revenue": incr[i].ravel(),
                }
            )
            for i, ch in enumerate(chans)
        ]
    )
    world = MMMWorld(config, frame, chans, contrib.reset_index(drop=True))
    world.roas = {ch.name: float(incr[i].sum() / spend[i].sum()) for i, ch in enumerate(chans)}
    world.counterfactual = _counterfactual(chans, spend, config.freq)
    return world


def _counterfactual(chans: list[ChannelTruth], spend: np.ndarray, freq: str) -> dict:
    """Channel -> multiplier -> the true incremental KPI had all its spend been scaled."""
    return {
        ch.name: {m: float(true_incremental(ch, spend[i] * m, freq).sum()) for m in (0.5, 1.0, 1.5)}
        for i, ch in enumerate(chans)
    }


def with_spend(world: MMMWorld, spend: dict[str, np.ndarray]) -> MMMWorld:
    """The same world had ``spend`` (channel -> ``(G, T)``) been spent instead.

    The KPI, the platforms' claims and the ground truth move by the true response to the
    change; base, controls and noise stay as drawn (a test or a plan run in this world). Its
    ROAS and 0.5x/1.5x counterfactuals are those of the new spend."""
    frame, contrib = world.frame.copy(), world.contributions.copy()
    g, freq = world.config.geos, world.config.freq
    for name, new in spend.items():
        ch = world.channels[world.spend_columns.index(name)]
        old = frame[name].to_numpy(float).reshape(g, -1)
        new = np.asarray(new, dtype=float).reshape(g, -1)
        change = (true_incremental(ch, new, freq) - true_incremental(ch, old, freq)).ravel()
        frame["revenue"] += change
        frame[f"{name}_platform_revenue"] += change * ch.overclaim
        frame[name] = new.ravel()
        rows = contrib["channel"] == name
        contrib.loc[rows, "spend"] = new.ravel()
        contrib.loc[rows, "incremental_revenue"] += change
    out = MMMWorld(world.config, frame, world.channels, contrib, dict(world.roas))
    sums = contrib.groupby("channel")[["incremental_revenue", "spend"]].sum()
    out.roas = (sums["incremental_revenue"] / sums["spend"]).to_dict()
    spent = np.stack([frame[c.name].to_numpy(float).reshape(g, -1) for c in world.channels])
    out.counterfactual = _counterfactual(world.channels, spent, freq)
    return out


def lift_tests(
    world: MMMWorld,
    channel: str,
    start: int,
    periods: int,
    holdout_share: float = 1.0,
    rel_se: float = 0.15,
    seed: int = 0,
    bias: float = 1.0,
    readout: int = 0,
) -> dict:
    """One holdout test's row (the docs/contracts.md format): the true lift plus noise of ``rel_se``.

    ``bias`` multiplies the reported lift (a contaminated or mis-measured test). ``readout``
    periods after the test are read out too (``readout_end``): the lift then holds the
    carry-over of the spend held out."""
    i = [c.name for c in world.channels].index(channel)
    ch, freq = world.channels[i], world.config.freq
    spend = world.frame[channel].to_numpy().reshape(world.config.geos, -1)
    low = spend.copy()
    low[:, start : start + periods] *= 1 - holdout_share
    window = slice(start, start + periods + readout)
    truth = (
        true_incremental(ch, spend, freq)[:, window] - true_incremental(ch, low, freq)[:, window]
    ).sum()
    se = rel_se * truth
    lift = truth * bias + np.random.default_rng(seed).normal(0, se)
    dates = pd.date_range(
        world.config.start, periods=world.config.periods, freq="D" if freq == "D" else "W-MON"
    )
    last = pd.Timedelta(days=PERIOD_DAYS[freq] - 1)
    end = dates[start + periods - 1] + last
    read_until = dates[start + periods + readout - 1] + last
    return {
        "channel": channel,
        "start": dates[start].date().isoformat(),
        "end": end.date().isoformat(),
        "kind": "holdout",
        "spend_delta": "",
        "holdout_share": holdout_share,
        "lift": float(lift),
        "standard_error": float(se),
        "geo": "",
        "readout_end": read_until.date().isoformat() if readout else "",
        "true_lift": float(truth),
    }


def read_ground_truth(directory: Path) -> tuple[pd.DataFrame, dict]:
    """Read ``channel_contributions.csv`` (+ ``response.json`` when present) from a ground_truth dir.

    Accepts the market simulator's and this module's files: the incremental column is the first
    of ``incremental_revenue``, ``true_incremental_revenue``, ``incremental_conversions``,
    ``true_incremental_conversions``; it is returned as ``incremental``."""
    frame = pd.read_csv(directory / "channel_contributions.csv", parse_dates=["date"])
    names = [
        "incremental_revenue",
        "true_incremental_revenue",
        "incremental_conversions",
        "true_incremental_conversions",
    ]
    found = [n for n in names if n in frame.columns]
    if not found or "channel" not in frame.columns or "spend" not in frame.columns:
        raise ValueError(
            f"{directory / 'channel_contributions.csv'}: needs date, channel, spend and one of {names}"
        )
    frame = frame.rename(columns={found[0]: "incremental"})
    response = directory / "response.json"
    return frame, (json.loads(response.read_text()) if response.exists() else {})


def truth_roas(contributions: pd.DataFrame) -> dict[str, float]:
    """True ROAS per channel from a ground-truth contributions frame (``incremental`` column)."""
    sums = contributions.groupby("channel")[["incremental", "spend"]].sum()
    return (sums["incremental"] / sums["spend"]).to_dict()
