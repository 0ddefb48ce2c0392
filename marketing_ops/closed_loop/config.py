"""What a closed-loop run is asked to do, and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

__all__ = ["EXPERIMENT_SHARES", "PAID", "PERIOD_DAYS", "LoopConfig", "LoopResult"]

PAID = ("paid_search", "display", "paid_social")
PERIOD_DAYS = 7
EXPERIMENT_SHARES = {"current": 0.45, "challenger": 0.45, "holdout": 0.10}


@dataclass(frozen=True)
class LoopConfig:
    days: int = 60
    history_days: int = 730
    seed: int = 7
    measure_every: int = PERIOD_DAYS
    contacts: int = 2500
    traffic_scale: float = 0.02
    autonomy: str = "full"
    curve_bootstrap: int = 8
    shock_channel: str | None = None  # plant a cost shock on this channel at the loop's start
    shock_multiplier: float = 2.0
    # a simulator.hostile_worlds() preset (e.g. "all_at_once"): the market breaks attribution
    world: str | None = None
    # regions the simulated market is split into (WorldConfig.geos; 0: national): the ad
    # platforms send geographic reports, GA4 has each visit's region, so the warehouse has
    # geo KPIs (marts.fct_geo_kpis_daily) and the agent's tests are geo tests
    geos: int = 0
    end: date | None = None  # last loop day (default: yesterday, so every day is a partition)
    # > 0: the agent proposes incrementality tests (testing.yaml) priced on the media mix
    # model, this many EUR held by the tests running at once, and runs the ones that fit
    # (spend pulses in a national market, matched-market geo tests with ``geos``);
    # 0: testing.yaml as it is (off)
    testing_budget_eur: float = 0.0
    # further testing.yaml settings for the loop's world, e.g. (("min_power", 0.0),): a
    # benchmark forcing tests the shipped thresholds would decline, to measure what they cost
    testing_settings: tuple[tuple[str, float], ...] = ()
    # False: continue the simulated, already measured world in ``root`` from its next day
    # (tests reuse a world built once); True: simulate a fresh world there first.
    fresh: bool = True


@dataclass
class LoopResult:
    config: LoopConfig
    start: date
    end: date
    profit: pd.DataFrame  # policy x (spend, revenue, profit, vs_static)
    spend_by_channel: pd.DataFrame
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    experiment: dict | None = None
    kpis_by_channel: pd.DataFrame | None = None

    def table(self):
        from rich.table import Table

        t = Table(
            title=(
                f"Closed loop {self.start} .. {self.end} ({self.config.days} days, seed "
                f"{self.config.seed}): paid media, true expected EUR"
            )
        )
        for col in ("policy", "spend", "revenue", "profit", "profit vs static"):
            t.add_column(col, justify="right")
        for r in self.profit.itertuples():
            t.add_row(
                r.policy,
                f"{r.spend:,.0f}",
                f"{r.revenue:,.0f}",
                f"{r.profit:,.0f}",
                f"{r.vs_static:+,.0f} ({r.vs_static_pct:+.1%})",
            )
        return t
