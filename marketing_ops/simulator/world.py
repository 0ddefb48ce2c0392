"""The simulated market: channels with true adstock + saturation response, seasonality,
holidays, audiences, contacts with consent, and content assets with hidden response rates.

Everything is drawn from one seed; a day's randomness comes from ``(seed, day)`` so the same
day is the same whichever call produces it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from marketing_ops.forecasting.curves import ResponseCurve, adstock, hill

PAID_CHANNELS = ("paid_search", "display", "paid_social", "email")
BASELINE_CHANNELS = {"organic_search": 22.0, "direct": 14.0, "referral": 5.0}
SEGMENTS = (
    "new_visitors",
    "engaged_prospects",
    "first_time_buyers",
    "loyal_customers",
    "lapsed_customers",
    "b2b_leads",
)
EMAIL_COST_PER_SEND = 0.002
ONLINE_SHARE = 0.7  # of business conversions; the rest are closed-won CRM deals
# The regions of a market with geos (``WorldConfig.geos``), as GA4's ``geo.region`` and the
# ad platforms' geographic reports name them.
REGIONS = (
    "California", "Texas", "Florida", "New York", "Pennsylvania", "Illinois", "Ohio",
    "Georgia", "North Carolina", "Michigan", "New Jersey", "Virginia", "Washington",
    "Arizona", "Massachusetts", "Tennessee", "Indiana", "Maryland", "Missouri", "Wisconsin",
)  # fmt: skip

# Channel -> (platform, campaigns as (id, name, share)).
CAMPAIGNS: dict[str, list[tuple[str, str, float]]] = {
    "paid_search": [
        ("9000000101", "SEARCH | brand", 0.45),
        ("9000000102", "SEARCH | generic", 0.35),
        ("9000000103", "SEARCH | competitor", 0.20),
    ],
    "display": [
        ("9000000201", "DISPLAY | prospecting", 0.5),
        ("9000000202", "DISPLAY | retargeting", 0.3),
        ("9000000203", "DISPLAY | video", 0.2),
    ],
    "paid_social": [
        ("2385000000101", "SOCIAL | prospecting", 0.5),
        ("2385000000102", "SOCIAL | lookalike", 0.3),
        ("2385000000103", "SOCIAL | retargeting", 0.2),
    ],
}
# Typical cost per click and per thousand impressions, EUR.
CPC = {"paid_search": 1.6, "display": 0.6, "paid_social": 0.9}
CPM = {"paid_search": 40.0, "display": 3.0, "paid_social": 7.0}
TAGS = {  # GA4 source / medium per channel
    "paid_search": ("google", "cpc"),
    "display": ("google", "display"),
    "paid_social": ("facebook", "paid_social"),
    "email": ("newsletter", "email"),
    "organic_search": ("google", "organic"),
    "direct": ("(direct)", "(none)"),
    "referral": ("partner-blog.example", "referral"),
}


@dataclass(frozen=True)
class Shock:
    """From ``day`` (index into the history) on, the channel's costs are multiplied."""

    channel: str
    day: int
    cost_multiplier: float = 2.0


@dataclass(frozen=True)
class ResponseShock:
    """From ``day`` (index into the history) on, the channel's response (the conversions any
    adstocked spend buys) is multiplied by ``factor``."""

    channel: str
    day: int
    factor: float = 0.5


@dataclass(frozen=True)
class Hostility:
    """What breaks attribution, off by default (tests/benchmarks: :func:`hostile_worlds`).

    - ``over_claim``: channel -> factor of true incremental conversions its ad platform
      reports (default world: 1.3-1.8, mean 1.55, for every platform);
    - ``search_capture``: share of every other channel's converting sessions that arrive
      through a paid-search click (brand search after a display, social or email touch,
      or by people who would have come anyway): last click credits search;
    - ``decay``: channel -> adstock decay replacing the drawn one (long carry-over near 1;
      the half-saturation follows, so the usual spend keeps its place on the curve);
    - ``saturation``: channel -> multiplier of the drawn Hill half-saturation (small: the
      channel's usual spend sits far past it);
    - ``response_shock``: one channel's response multiplied from a day on.
    """

    over_claim: dict[str, float] = field(default_factory=dict)
    search_capture: float = 0.0
    decay: dict[str, float] = field(default_factory=dict)
    saturation: dict[str, float] = field(default_factory=dict)
    response_shock: ResponseShock | None = None

    @classmethod
    def from_json(cls, d: dict | None) -> Hostility | None:
        if not d:
            return None
        shock = d.get("response_shock")
        return cls(**{**d, "response_shock": ResponseShock(**shock) if shock else None})


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 7
    start: date = date(2024, 11, 24)
    days: int = 730
    country: str = "US"
    traffic_scale: float = 0.02
    contacts: int = 2500
    shock: Shock | None = None
    # Write some days in the other shapes the tools export (simulator/exports.py): the same
    # data, so loading them must give the same raw rows.
    export_variants: bool = False
    hostility: Hostility | None = None
    # Regions the market is split into (0: one national market, files without regions).
    # With geos every visit and purchase has its region (GA4 ``geo.region``), the ad
    # platforms send geographic reports, and a geo test's spend change reaches only its geos.
    geos: int = 0


@dataclass
class World:
    config: WorldConfig
    curves: dict[str, ResponseCurve]
    base_budget: dict[str, float]
    weekly: list[float]
    yearly_amplitude: float
    holiday_lift: float
    segment_hour: dict[str, int]
    assets: list[dict]
    asset_rates: dict[str, dict[str, tuple[float, float]]]  # segment -> asset -> (open, click)
    contacts: list[dict] = field(default_factory=list)
    # Each region's share of demand and of every channel's planned spend (empty: national).
    geo_shares: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ seasonality
    def index(self, day: date) -> float:
        """True multiplicative seasonality of demand and response on ``day``."""
        doy = day.timetuple().tm_yday
        yearly = 1.0 + self.yearly_amplitude * math.cos(2 * math.pi * (doy - 345) / 365.25)
        lift = self.holiday_lift if day in self._holidays() else 1.0
        return self.weekly[day.weekday()] * yearly * lift

    def _holidays(self):
        if not hasattr(self, "_holiday_cache"):
            import holidays

            years = range(self.config.start.year - 1, self.config.start.year + 6)
            self._holiday_cache = holidays.country_holidays(self.config.country, years=years)
        return self._holiday_cache

    def cost_multiplier(self, channel: str, day: date) -> float:
        shock = self.config.shock
        if (
            shock
            and shock.channel == channel
            and day >= self.config.start + timedelta(days=shock.day)
        ):
            return shock.cost_multiplier
        return 1.0

    def response_factor(self, channel: str, day: date) -> float:
        """The response shock's factor on ``day`` (1.0 outside it)."""
        hostility = self.config.hostility
        shock = hostility.response_shock if hostility else None
        if (
            shock
            and shock.channel == channel
            and day >= self.config.start + timedelta(days=shock.day)
        ):
            return shock.factor
        return 1.0

    def expected_conversions(self, channel: str, adstocked: float, day: date) -> float:
        """Expected conversions of a channel given its (cost-adjusted) adstocked spend."""
        c = self.curves[channel]
        response = (
            self.index(day)
            * c.max_response
            * float(hill(np.array([adstocked]), c.half_saturation, c.shape)[0])
        )
        return response * self.response_factor(channel, day)

    def conversions_path(
        self, channel: str, spend, days, initial_adstock: float = 0.0
    ) -> np.ndarray:
        """True expected conversions per day of ``channel`` for ``spend`` per day on ``days``:
        the spend bought at each day's cost, carried over from ``initial_adstock``, scaled by
        the seasonal index and the response shock (what the market draws from, and what every
        score of a plan or a fit on its truth reads)."""
        index = np.array([self.index(d) for d in days])
        factor = np.array([self.response_factor(channel, d) for d in days])
        path = self.bought(channel, spend, days)
        return self.curves[channel].conversions(path, index, initial_adstock) * factor

    def bought(self, channel: str, spend, days) -> np.ndarray:
        """What ``spend`` per day on ``days`` buys of ``channel`` at each day's cost (the
        units the curve's carry-over and saturation act on)."""
        cost = np.array([self.cost_multiplier(channel, d) for d in days])
        return np.asarray(spend, dtype=float) / cost

    def adstock_after(self, channel: str, spend, days, initial_adstock: float = 0.0) -> float:
        """The carry-over left at the end of ``days`` by ``spend`` per day, starting from
        ``initial_adstock``: what the next period starts from."""
        path = self.bought(channel, spend, days)
        if path.size == 0:
            return float(initial_adstock)
        return float(adstock(path, self.curves[channel].decay, initial_adstock)[-1])

    def to_json(self) -> dict:
        cfg = asdict(self.config)
        cfg["start"] = self.config.start.isoformat()
        return {
            "config": cfg,
            "curves": {k: v.to_dict() for k, v in self.curves.items()},
            "base_budget": self.base_budget,
            "weekly": self.weekly,
            "yearly_amplitude": self.yearly_amplitude,
            "holiday_lift": self.holiday_lift,
            "segment_hour": self.segment_hour,
            "asset_rates": {
                s: {a: list(r) for a, r in m.items()} for s, m in self.asset_rates.items()
            },
        }


TOPICS = (
    "pricing",
    "product_tour",
    "case_study",
    "seasonal_sale",
    "onboarding",
    "loyalty",
    "webinar",
)
FORMATS = {
    "email": "email",
    "banner": "display",
    "video": "paid_social|display",
    "text_ad": "paid_search",
    "carousel": "paid_social",
}
BODY = {
    "pricing": "Compare plans side by side and see what you save when you switch this quarter.",
    "product_tour": "Take a five-minute tour of the dashboard and see the reports your team will use.",
    "case_study": "How a mid-size retailer cut acquisition cost by a third with better targeting.",
    "seasonal_sale": "Our seasonal sale is on: limited-time savings on every annual plan.",
    "onboarding": "Get started in three steps: connect your data, pick a goal, launch your first campaign.",
    "loyalty": "Thank you for staying with us: members get early access and a loyalty discount.",
    "webinar": "Join our live webinar on forecasting demand and planning budgets with confidence.",
}


def build_world(config: WorldConfig) -> World:
    rng = np.random.default_rng([config.seed, 0])
    jitter = lambda x, s=0.15: float(x * rng.uniform(1 - s, 1 + s))  # noqa: E731
    curves = {
        # display saturated and over-spent, paid_social under-spent: the optimum differs
        # from the historical split.
        "paid_search": ResponseCurve(
            "paid_search", jitter(0.3), jitter(1400.0), jitter(1.3), jitter(60.0), jitter(90.0)
        ),
        "display": ResponseCurve(
            "display", jitter(0.5), jitter(500.0), jitter(1.0), jitter(14.0), jitter(70.0)
        ),
        "paid_social": ResponseCurve(
            "paid_social", jitter(0.4), jitter(2600.0), jitter(1.4), jitter(70.0), jitter(80.0)
        ),
        "email": ResponseCurve("email", jitter(0.1), jitter(0.8), 1.0, jitter(8.0), jitter(60.0)),
    }
    base_budget = {
        "paid_search": jitter(1300.0),
        "display": jitter(1100.0),
        "paid_social": jitter(800.0),
    }
    weekly = [1.05, 1.08, 1.06, 1.02, 0.98, 0.9, 0.91]
    segment_hour = {
        s: int(h) for s, h in zip(SEGMENTS, rng.integers(7, 21, len(SEGMENTS)), strict=True)
    }
    assets = []
    formats = list(FORMATS)
    for i in range(36):
        topic = TOPICS[i % len(TOPICS)]
        fmt = formats[(i // len(TOPICS) + i) % len(formats)] if i % 3 else "email"
        status = "approved"
        if i in (5, 17):
            status = "pending"
        if i == 23:
            status = "rejected"
        assets.append(
            {
                "asset_id": f"A{i + 1:03d}",
                "version": 1 + (i % 4 == 0),
                "title": f"{topic.replace('_', ' ').title()} — {fmt} #{i + 1}",
                "body": BODY[topic],
                "topic": topic,
                "format": fmt,
                "channel_fit": FORMATS[fmt],
                "compliance_status": status,
                "brand_safe": "false" if i == 29 else "true",
                "regulated_claim": "true" if topic == "pricing" and i % 2 else "false",
            }
        )
    asset_rates = {
        s: {
            a["asset_id"]: (float(rng.uniform(0.15, 0.45)), float(rng.uniform(0.01, 0.09)))
            for a in assets
        }
        for s in SEGMENTS
    }
    curves = _hostile_curves(curves, config.hostility)
    world = World(
        config, curves, base_budget, weekly, 0.18, 1.35, segment_hour, assets, asset_rates
    )
    world.contacts = _contacts(config, rng)
    world.geo_shares = geo_shares(config)
    return world


def geo_shares(config: WorldConfig) -> dict[str, float]:
    """Each region's share of the market (sizes drawn log-normal from a stream of their own,
    so a world's other draws are those of its national twin); empty for a national world."""
    if config.geos < 2:
        return {}
    if config.geos > len(REGIONS):
        raise ValueError(f"geos: at most {len(REGIONS)} regions, got {config.geos}")
    sizes = np.exp(np.random.default_rng([config.seed, 5000]).normal(0.0, 0.5, config.geos))
    return {r: float(x) for r, x in zip(REGIONS, sizes / sizes.sum(), strict=False)}


def _hostile_curves(
    curves: dict[str, ResponseCurve], hostility: Hostility | None
) -> dict[str, ResponseCurve]:
    """The drawn curves with the hostile world's decays and half-saturations (no draw
    changes: a hostile world's other randomness is its gentle twin's)."""
    if hostility is None:
        return curves
    out = dict(curves)
    for channel, decay in hostility.decay.items():
        # the half-saturation moves with the carry-over so that the usual spend sits where it
        # sat on the curve: long carry-over, not a different saturation
        old = out[channel]
        scale = (1.0 - old.decay) / (1.0 - decay)
        out[channel] = replace(old, decay=decay, half_saturation=old.half_saturation * scale)
    for channel, scale in hostility.saturation.items():
        out[channel] = replace(out[channel], half_saturation=out[channel].half_saturation * scale)
    return out


FIRST = (
    "anna",
    "ben",
    "carla",
    "dmitri",
    "eva",
    "felix",
    "gina",
    "hugo",
    "ines",
    "jonas",
    "kim",
    "lena",
)
LAST = ("meyer", "novak", "olsen", "perez", "quinn", "rossi", "schmidt", "tanaka", "ueda", "vogel")


def _contacts(config: WorldConfig, rng: np.random.Generator) -> list[dict]:
    out = []
    for i in range(config.contacts):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        email = f"{first}.{last}{i}@example.com"
        if i % 17 == 0:  # real exports carry case and whitespace noise
            email = f"  {email.title()} "
        created = 0 if i < config.contacts * 0.8 else int(rng.integers(1, max(2, config.days)))
        out.append(
            {
                "contact_id": f"C{i + 1:06d}",
                "email": email,
                "phone": f"+1 555 {int(rng.integers(1000000, 9999999))}",
                "segment": SEGMENTS[int(rng.integers(0, len(SEGMENTS)))],
                "email_consent": bool(rng.random() < 0.7),
                "ads_consent": bool(rng.random() < 0.6),
                "unsubscribed": bool(rng.random() < 0.03),
                "created_day": created,
            }
        )
    return out


def historical_spend(world: World) -> dict[str, np.ndarray]:
    """Spend per channel and day that varies enough to be learnable: a slow random walk,
    flights at 0.3x-2x, a weekday pattern and occasional dark days."""
    cfg = world.config
    rng = np.random.default_rng([cfg.seed, 1])
    days = cfg.days
    out: dict[str, np.ndarray] = {}
    for channel, base in world.base_budget.items():
        walk = np.exp(np.cumsum(rng.normal(0, 0.03, days)).clip(-0.7, 0.7))
        flights = np.ones(days)
        d = 0
        while d < days:
            length = int(rng.integers(7, 21))
            flights[d : d + length] = rng.choice([0.3, 0.6, 1.0, 1.0, 1.5, 2.0])
            d += length + int(rng.integers(0, 14))
        weekday = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.85])[
            [(cfg.start + timedelta(days=i)).weekday() for i in range(days)]
        ]
        dark = rng.random(days) < 0.01
        out[channel] = np.round(base * walk * flights * weekday * ~dark, 2)
    return out
