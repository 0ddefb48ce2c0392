"""The market's daily outcomes per channel and audience, drawn without writing export files.

``generate_history`` writes every session, deal and email event, which costs about 20 s and
270 MB for two years. Model tests and benchmarks that need many two-year worlds only need
what the warehouse ends up measuring per day (spend, business conversions and revenue per
channel and per audience), so this draws exactly those from the same world: the same true
curves, historical spend, seasonality, holidays, cost shocks, response shocks, email schedule
and revenue distributions as :mod:`marketing_ops.simulator.market`. The draws differ from
``generate_history``'s (it spends its random numbers on events), the distributions do not.

Like the rest of the simulator's truth, this is for tests and benchmarks; the product never
calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from marketing_ops.forecasting.curves import ResponseCurve, adstock
from marketing_ops.simulator.market import GroundTruth
from marketing_ops.simulator.world import (
    BASELINE_CHANNELS,
    EMAIL_COST_PER_SEND,
    ONLINE_SHARE,
    SEGMENTS,
    World,
    WorldConfig,
    build_world,
    historical_spend,
)

__all__ = ["DailyWorld", "simulate_daily"]

BASELINE_VALUE = 75.0  # revenue per baseline-demand conversion, as in market.py


@dataclass(frozen=True)
class DailyWorld:
    """Measured-style daily frames plus the truth they were drawn from."""

    kpis: pd.DataFrame  # date_day, channel, spend, conversions, revenue, expected_conversions
    audiences: pd.DataFrame  # date_day, audience_id, conversions, revenue
    world: World

    @property
    def curves(self) -> dict[str, ResponseCurve]:
        return self.world.curves

    def ground_truth(self) -> GroundTruth:
        """The same truth ``generate_history`` keeps (:class:`GroundTruth`: each channel's
        spend, adstock, expected and realised conversions per day), for what scores a fit or
        a plan on this world, e.g. :func:`marketing_ops.simulator.lift_studies`."""
        cfg = self.world.config
        daily = self.kpis.assign(date=self.kpis["date_day"].map(lambda d: d.isoformat()))
        adstocks = []
        for channel, rows in daily.groupby("channel", sort=False):
            if channel not in self.world.curves:  # baseline demand: no spend, no adstock
                adstocks.append(pd.Series(0.0, index=rows.index))
                continue
            cost = np.array(
                [
                    self.world.cost_multiplier(channel, cfg.start + timedelta(days=i))
                    for i in range(len(rows))
                ]
            )
            decay = self.world.curves[channel].decay
            adstocks.append(
                pd.Series(adstock(rows["spend"].to_numpy() / cost, decay), index=rows.index)
            )
        daily["adstock"] = pd.concat(adstocks)
        columns = [
            "date",
            "channel",
            "spend",
            "adstock",
            "expected_conversions",
            "conversions",
            "revenue",
        ]
        return GroundTruth(self.world, daily[columns].reset_index(drop=True))

    def true_index(self) -> np.ndarray:
        """The true multiplicative seasonality (weekly x yearly x holiday) per history day."""
        cfg = self.world.config
        return np.array([self.world.index(cfg.start + timedelta(days=i)) for i in range(cfg.days)])


def _revenue(rng: np.random.Generator, conversions: int, value: float) -> float:
    """Sum of per-conversion revenues as market.py draws them (online gamma, deals gamma)."""
    if conversions <= 0:
        return 0.0
    online = int(rng.binomial(conversions, ONLINE_SHARE))
    deals = conversions - online
    total = rng.gamma(8.0 * online, value * 0.8 / 8.0) if online else 0.0
    if deals:
        total += rng.gamma(8.0 * deals, value * (1 - ONLINE_SHARE * 0.8) / (1 - ONLINE_SHARE) / 8.0)
    return float(total)


def _email_sends(world: World) -> np.ndarray:
    """Sends per day under the history's schedule: segment i on weekday i % 5, to consented,
    subscribed contacts that exist by then."""
    cfg = world.config
    sends = np.zeros(cfg.days)
    contacts = world.contacts
    for i in range(cfg.days):
        day = cfg.start + timedelta(days=i)
        for k, segment in enumerate(SEGMENTS):
            if day.weekday() != k % 5:
                continue
            sends[i] += sum(
                1
                for c in contacts
                if c["segment"] == segment
                and c["email_consent"]
                and not c["unsubscribed"]
                and c["created_day"] <= i
            )
    return sends


def simulate_daily(config: WorldConfig) -> DailyWorld:
    """Two years (``config.days``) of one seeded world's daily outcomes, fast."""
    world = build_world(config)
    spend = historical_spend(world)
    spend["email"] = _email_sends(world) * EMAIL_COST_PER_SEND
    rng = np.random.default_rng([config.seed, 7])
    days = [config.start + timedelta(days=i) for i in range(config.days)]
    index = np.array([world.index(d) for d in days])
    rows = []
    per_day_conversions = np.zeros(config.days, dtype=int)
    per_day_revenue = np.zeros(config.days)
    for channel in ("paid_search", "display", "paid_social", "email"):
        curve = world.curves[channel]
        expected = world.conversions_path(channel, spend[channel], days)
        conv = rng.poisson(expected)
        rev = np.array([_revenue(rng, int(n), curve.value_per_conversion) for n in conv])
        per_day_conversions += conv
        per_day_revenue += rev
        rows.append(
            pd.DataFrame(
                {
                    "date_day": days,
                    "channel": channel,
                    "spend": spend[channel],
                    "conversions": conv,
                    "revenue": rev,
                    "expected_conversions": expected,
                }
            )
        )
    for channel, level in BASELINE_CHANNELS.items():
        expected = level * index
        conv = rng.poisson(expected)
        rev = np.array([_revenue(rng, int(n), BASELINE_VALUE) for n in conv])
        per_day_conversions += conv
        per_day_revenue += rev
        rows.append(
            pd.DataFrame(
                {
                    "date_day": days,
                    "channel": channel,
                    "spend": 0.0,
                    "conversions": conv,
                    "revenue": rev,
                    "expected_conversions": expected,
                }
            )
        )
    kpis = pd.concat(rows, ignore_index=True)
    # Every conversion belongs to a contact drawn uniformly (market.py), so each audience gets
    # a multinomial share by its contact count; revenue follows the same shares on average.
    counts = pd.Series([c["segment"] for c in world.contacts]).value_counts()
    shares = np.array([counts.get(s, 0) for s in SEGMENTS], dtype=float)
    shares /= shares.sum()
    split = np.vstack([rng.multinomial(n, shares) for n in per_day_conversions])
    mean_value = np.divide(
        per_day_revenue,
        per_day_conversions,
        out=np.zeros(config.days),
        where=per_day_conversions > 0,
    )
    audiences = pd.concat(
        [
            pd.DataFrame(
                {
                    "date_day": days,
                    "audience_id": segment,
                    "conversions": split[:, k],
                    "revenue": split[:, k] * mean_value,
                }
            )
            for k, segment in enumerate(SEGMENTS)
        ],
        ignore_index=True,
    )
    return DailyWorld(kpis=kpis, audiences=audiences, world=world)
