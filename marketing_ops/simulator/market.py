"""Day-by-day simulation: draws each day's outcomes and writes them as the tools export them.

``generate_history`` writes the past; ``simulate_outcomes`` continues the same world after an
executed decision batch (closing the loop). Ground truth goes to ``home.ground_truth``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.forecasting.curves import ResponseCurve
from marketing_ops.simulator.exports import variant_file
from marketing_ops.simulator.truth import write_truth
from marketing_ops.simulator.world import (
    BASELINE_CHANNELS,
    CAMPAIGNS,
    CPC,
    CPM,
    EMAIL_COST_PER_SEND,
    ONLINE_SHARE,
    SEGMENTS,
    TAGS,
    Hostility,
    Shock,
    World,
    WorldConfig,
    build_world,
    historical_spend,
)

GOOGLE_HEADER = [
    "Day",
    "Campaign ID",
    "Campaign",
    "Impressions",
    "Clicks",
    "Cost",
    "Conversions",
    "Conv. value",
    "Currency code",
]
META_HEADER = [
    "date_start",
    "date_stop",
    "account_id",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "ad_id",
    "impressions",
    "clicks",
    "spend",
    "account_currency",
    "actions",
    "action_values",
]
DEALS_HEADER = [
    "Deal ID",
    "Contact Email",
    "Create Date",
    "Deal Stage",
    "Amount",
    "Currency",
    "Close Date",
    "UTM Source",
    "UTM Medium",
    "UTM Campaign",
    "UTM Content",
    "GCLID",
]
CONTACTS_HEADER = [
    "Contact ID",
    "Email",
    "Phone",
    "Segment",
    "Email Consent",
    "Ads Consent",
    "Unsubscribed",
    "Create Date",
]
EMAIL_HEADER = [
    "event_id",
    "timestamp",
    "event_type",
    "email",
    "message_id",
    "campaign_id",
    "content_id",
]
OFFLINE_HEADER = [
    "Google Click ID",
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
]
ASSET_HEADER = [
    "asset_id",
    "version",
    "title",
    "body",
    "topic",
    "format",
    "channel_fit",
    "compliance_status",
    "brand_safe",
    "regulated_claim",
    "created_at",
]
META_ACCOUNT = "act_1029384756"
# Returning visitors make multi-touch journeys: a browser that clicked an ad comes back
# within this many days, through any channel, and sometimes converts then.
RETURN_WINDOW_DAYS = 28
RETURNING_BROWSE_SHARE = 0.25  # of ad-click sessions that come from a returning browser
RETURNING_CONVERT_SHARE = 0.4  # of converting sessions that come from a returning browser
DEFAULT_OVER_CLAIM = 1.55  # mean of the platforms' uniform(1.3, 1.8) claim on true conversions
BASE_VALUE_PER_CONVERSION = 75.0  # unpaid demand (organic, direct, referral)


@dataclass
class SimulationSummary:
    days: int
    files: int
    rows: dict[str, int] = field(default_factory=dict)
    business_conversions: int = 0

    def __str__(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in sorted(self.rows.items()))
        return f"{self.days} days, {self.files} files, {self.business_conversions:,} business conversions ({rows})"


@dataclass
class DayPlan:
    """What is spent and sent on one day, and which decision caused it."""

    spend: dict[str, float]
    budget_decisions: dict[str, str | None]
    email: list[tuple[str, str, int, str | None]]  # (segment, asset_id, hour, decision_id)
    # A market with geos: per channel, the regions a geo test changes that day; None: a
    # holdout spends nothing there, a number: EUR added to the region's share of the plan.
    geo_change: dict[str, dict[str, float | None]] = field(default_factory=dict)


def _csv(rows: list[list], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


class _Writer:
    def __init__(self, home: DataHome, start: date, variants: bool = False) -> None:
        self.home = home
        self.start = start
        self.variants = variants
        self.summary = SimulationSummary(0, 0)

    def write(self, source: str, day: date, text: str, ext: str = "csv", rows: int = 0) -> None:
        folder = self.home.source_inbox(source)
        folder.mkdir(parents=True, exist_ok=True)
        if self.variants:  # the same data in another shape the tool exports (exports.py)
            ext, data = variant_file(source, day, (day - self.start).days, text, ext)
            (folder / f"{source}_{day.isoformat()}.{ext}").write_bytes(data)
        else:
            (folder / f"{source}_{day.isoformat()}.{ext}").write_text(text, encoding="utf-8")
        self.summary.files += 1
        self.summary.rows[source] = self.summary.rows.get(source, 0) + rows


def _email_day_plan(
    world: World, day: date, rng: np.random.Generator
) -> list[tuple[str, str, int, None]]:
    """History: each segment gets one email a week on its weekday, a random approved asset."""
    email_assets = [
        a["asset_id"]
        for a in world.assets
        if "email" in a["channel_fit"] and a["compliance_status"] == "approved"
    ]
    plan = []
    for i, segment in enumerate(SEGMENTS):
        if day.weekday() == i % 5:
            plan.append(
                (
                    segment,
                    email_assets[int(rng.integers(0, len(email_assets)))],
                    world.segment_hour[segment],
                    None,
                )
            )
    return plan


def _ts(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=float(hour))


class _Day:
    """One simulated day: its random streams, the returning-visitor pool and the rows of
    every export, filled by the steps of :func:`_simulate_day` in a fixed order (the draws'
    order is the world's: same seed, same files)."""

    def __init__(self, world: World, day_index: int, day: date, state: dict) -> None:
        cfg = world.config
        self.world = world
        self.day_index = day_index
        self.day = day
        self.state = state
        self.rng = np.random.default_rng([cfg.seed, 1000 + day.toordinal()])
        # Returning visitors draw from their own stream, so every other draw of the day (and
        # the ground truth built from them) is what it was before journeys were simulated.
        self.returning = np.random.default_rng([cfg.seed, 3000 + day.toordinal()])
        self.visitors: list[list] = [
            v for v in state.get("visitors", []) if day_index - v[1] <= RETURN_WINDOW_DAYS
        ]
        state["visitors"] = self.visitors
        self.stamp = day.strftime("%Y%m%d")
        self.ga4: list[str] = []
        self.deals: list[list] = []
        self.offline: list[list] = []
        self.email_rows: list[list] = []
        self.google_rows: list[list] = []
        self.meta_rows: list[list] = []
        self.n_conv = 0
        hostility = cfg.hostility
        self.search_capture = hostility.search_capture if hostility else 0.0
        self.over_claim = dict(hostility.over_claim) if hostility else {}
        # Search capture draws from its own stream: a hostile world's other draws are its
        # gentle twin's, only the last click moves.
        self.capture = np.random.default_rng([cfg.seed, 4000 + day.toordinal()])
        self.search_decision: str | None = None
        # A market with geos draws each visit's region from a stream of its own too.
        self.regions = list(world.geo_shares)
        self.shares = np.array(list(world.geo_shares.values()))
        self.geo_draw = np.random.default_rng([cfg.seed, 6000 + day.toordinal()])

    def region(self, weights: np.ndarray | None = None) -> str | None:
        """A visit's region: drawn by ``weights`` (default: the regions' shares of demand);
        None in a national market."""
        if not self.regions:
            return None
        p = self.shares if weights is None else weights / weights.sum()
        return self.regions[int(self.geo_draw.choice(len(self.regions), p=p))]

    def last_click(
        self, channel: str, decision_id: str | None, campaign: tuple[str, str] | None
    ) -> tuple[str, str | None, tuple[str, str] | None]:
        """The channel, decision and campaign a conversion's last click shows: its own, or,
        in a world where search captures clicks, a brand-search click."""
        if channel == "paid_search" or not self.search_capture:
            return channel, decision_id, campaign
        if self.capture.random() >= self.search_capture:
            return channel, decision_id, campaign
        return "paid_search", self.search_decision, CAMPAIGNS["paid_search"][0][:2]

    def returning_visitor(self, new_pseudo: str, converting: bool) -> str:
        """The browser of this session: a returning one that clicked an ad in the last
        RETURN_WINDOW_DAYS, or a new one (which joins the pool when it only browsed). A
        browser converts at most once, so each journey ends in one conversion."""
        share = RETURNING_CONVERT_SHARE if converting else RETURNING_BROWSE_SHARE
        if self.visitors and self.returning.random() < share:
            k = int(self.returning.integers(0, len(self.visitors)))
            return str(self.visitors.pop(k)[0] if converting else self.visitors[k][0])
        if not converting:
            self.visitors.append([new_pseudo, self.day_index])
        return new_pseudo

    def ga4_session(
        self,
        channel: str,
        kind: str | None,
        revenue: float,
        n: int,
        decision_id: str | None,
        gclid: str | None,
        campaign: tuple[str, str] | None,
        user_id: str | None,
        region: str | None = None,
    ) -> None:
        """One GA4 session (session_start, page_view and ``kind`` when it converts) in
        ``region`` (a market with geos)."""
        rng, day = self.rng, self.day
        source, medium = TAGS[channel]
        t0 = int(_ts(day, rng.uniform(0, 23.9)).timestamp() * 1_000_000)
        pseudo = f"{int(rng.integers(10**9, 10**10))}.{int(t0 // 1_000_000)}"
        pseudo = self.returning_visitor(pseudo, converting=kind is not None)
        cts = {
            "manual_source": source,
            "manual_medium": medium,
            "manual_campaign_name": campaign[1] if campaign else None,
            "manual_campaign_id": decision_id or (campaign[0] if campaign else None),
            "manual_content": None,
            "gclid": gclid,
        }
        events = ["session_start", "page_view"] + ([kind] if kind else [])
        session = int(t0 // 1_000_000)
        for k, name in enumerate(events):
            stamp = t0 + k * 7_000_000
            self.ga4.append(
                self.ga4_event(name, stamp, session, pseudo, user_id, revenue, n, cts, region)
            )

    def conversion(
        self,
        channel: str,
        value: float,
        decision_id: str | None,
        campaign: tuple[str, str] | None,
        region: str | None = None,
    ) -> float:
        """One business conversion: an online purchase, or a lead that closes as a CRM deal
        (with an offline conversion when a search click started it), tagged with its last
        click; in ``region`` (drawn by the regions' shares when not given, in a market with
        geos; the CRM export has no region). Returns its revenue."""
        rng, day, stamp = self.rng, self.day, self.stamp
        region = region or self.region()
        channel, decision_id, campaign = self.last_click(channel, decision_id, campaign)
        self.n_conv += 1
        n_conv = self.n_conv
        contacts = self.world.contacts
        contact = contacts[int(rng.integers(0, len(contacts)))]
        gclid = f"Cj0K{stamp}{n_conv:05d}" if channel == "paid_search" else None
        if rng.random() < ONLINE_SHARE:
            revenue = float(rng.gamma(8.0, value * 0.8 / 8.0))
            self.ga4_session(
                channel,
                "purchase",
                revenue,
                n_conv,
                decision_id,
                gclid,
                campaign,
                contact["contact_id"],
                region,
            )
            return revenue
        revenue = float(rng.gamma(8.0, value * (1 - ONLINE_SHARE * 0.8) / (1 - ONLINE_SHARE) / 8.0))
        self.ga4_session(
            channel, "generate_lead", 0.0, n_conv, decision_id, gclid, campaign, None, region
        )
        source, medium = TAGS[channel]
        created = day - timedelta(days=int(rng.integers(0, 21)))
        self.deals.append(
            [
                f"DL{stamp}{n_conv:05d}",
                contact["email"],
                # Created before the earliest close hour (08:00): never closed before created.
                f"{created.isoformat()} 07:00:00",
                "closedwon",
                f"{revenue:.2f}",
                "EUR",
                f"{day.isoformat()} {int(rng.integers(8, 19)):02d}:00:00",
                source,
                medium,
                campaign[1] if campaign else "",
                decision_id or "",
                gclid or "",
            ]
        )
        if gclid:
            local = _ts(day, 14).astimezone(ZoneInfo("Europe/Berlin"))
            self.offline.append(
                [
                    gclid,
                    "closed_won_deal",
                    local.strftime("%Y-%m-%d %H:%M:%S"),
                    f"{revenue:.2f}",
                    "EUR",
                ]
            )
        return revenue

    def ga4_event(
        self,
        name: str,
        ts: int,
        session: int,
        pseudo: str,
        user_id,
        revenue: float,
        n: int,
        cts,
        region: str | None = None,
    ) -> str:
        """One GA4 export row (BigQuery export shape, nested ``event_params``)."""
        params = [
            {"key": "ga_session_id", "value": {"int_value": session}},
            {
                "key": "page_location",
                "value": {
                    "string_value": f"https://shop.example.com/{'checkout' if name == 'purchase' else 'product'}"
                },
            },
        ]
        ecommerce = (
            {"purchase_revenue": round(revenue, 2), "transaction_id": f"T{self.stamp}{n:05d}"}
            if name == "purchase"
            else None
        )
        return json.dumps(
            {
                "event_date": self.stamp,
                "event_timestamp": ts,
                "event_name": name,
                "user_pseudo_id": pseudo,
                "user_id": user_id,
                "event_params": params,
                "traffic_source": {
                    "name": cts["manual_campaign_name"],
                    "medium": cts["manual_medium"],
                    "source": cts["manual_source"],
                },
                "collected_traffic_source": cts,
                "ecommerce": ecommerce,
                "items": [{"item_id": "SKU-1", "price": round(revenue, 2)}] if ecommerce else [],
                "device": {
                    "category": ["desktop", "mobile", "tablet"][int(self.rng.integers(0, 3))]
                },
                "geo": {"country": self.world.config.country}
                | ({"region": region} if region else {}),
            },
            separators=(",", ":"),
        )


def _simulate_day(
    world: World,
    writer: _Writer,
    day_index: int,
    day: date,
    plan: DayPlan,
    state: dict,
    truth: list[dict],
) -> None:
    """One day of the market: paid media, email, baseline demand, then the day's exports."""
    d = _Day(world, day_index, day, state)
    d.search_decision = plan.budget_decisions.get("paid_search")
    for channel in ("paid_search", "display", "paid_social"):
        truth.append(_paid_channel(d, channel, plan))
    truth.append(_email_channel(d, plan.email))
    truth.extend(_baseline_demand(d))
    _write_day(d, writer)


def _truth_row(d: _Day, channel: str, spend, adstock, expected, conversions, revenue) -> dict:
    return {
        "date": d.day.isoformat(),
        "channel": channel,
        "spend": spend,
        "adstock": adstock,
        "expected_conversions": expected,
        "conversions": conversions,
        "revenue": revenue,
    }


def _paid_channel(d: _Day, channel: str, plan: DayPlan) -> dict:
    """Spend -> adstock -> conversions spread over the channel's campaigns, the platform's
    report rows, ad-click sessions and lost deals; returns the channel's truth row."""
    world, rng = d.world, d.rng
    spend = float(plan.spend.get(channel, 0.0))
    curve = world.curves[channel]
    by_geo: dict[str, float] = {}
    if world.geo_shares:
        by_geo, expected_by_geo = _paid_geos(d, channel, spend, plan.geo_change.get(channel, {}))
        spend = sum(by_geo.values())
        expected = sum(expected_by_geo.values())
        drawn = {g: int(rng.poisson(e)) for g, e in expected_by_geo.items()}
        conversions = sum(drawn.values())
        regions: list[str | None] = [g for g, n in drawn.items() for _ in range(n)]
    else:
        effective = spend / world.cost_multiplier(channel, d.day)
        adstocked = effective + curve.decay * d.state["adstock"].get(channel, 0.0)
        d.state["adstock"][channel] = adstocked
        expected = world.expected_conversions(channel, adstocked, d.day)
        conversions = int(rng.poisson(expected))
        regions = [None] * conversions
    decision_id = plan.budget_decisions.get(channel)
    campaigns = CAMPAIGNS[channel]
    shares = np.array([c[2] for c in campaigns])
    picks = (
        rng.choice(len(campaigns), size=conversions, p=shares / shares.sum()) if conversions else []
    )
    per_campaign = np.bincount(np.asarray(picks, dtype=int), minlength=len(campaigns))
    revenue = 0.0
    for k, region in zip(picks, regions, strict=True):
        revenue += d.conversion(
            channel, curve.value_per_conversion, decision_id, campaigns[k][:2], region
        )
    clicks_total = sum(
        _platform_row(
            d, channel, campaign, spend, int(true_conv), curve.value_per_conversion, by_geo
        )
        for campaign, true_conv in zip(campaigns, per_campaign, strict=True)
    )
    weights = np.array(list(by_geo.values())) if by_geo and spend > 0 else None
    for _ in range(int(clicks_total * world.config.traffic_scale)):
        region = d.region(weights)
        d.ga4_session(channel, None, 0.0, 0, decision_id, None, campaigns[0][:2], None, region)
    _lost_deals(d, channel, conversions, campaigns[0][1])
    adstock = d.state["adstock"][channel]
    return _truth_row(d, channel, spend, adstock, expected, conversions, revenue)


def _paid_geos(
    d: _Day, channel: str, planned: float, change: dict[str, float | None]
) -> tuple[dict[str, float], dict[str, float]]:
    """A market with geos: each region's spend of ``channel`` (its share of the plan; in a
    geo test's region, nothing in a holdout or its share plus the added EUR in a spend-up)
    and its expected conversions. Each region carries over its own adstock (in the state);
    at the plan's split the regions add up to the national curve exactly (each region is the
    national response at its share's scale)."""
    world = d.world
    curve = world.curves[channel]
    cost = world.cost_multiplier(channel, d.day)
    carried = d.state.setdefault("geo_adstock", {}).setdefault(channel, {})
    national = d.state["adstock"].get(channel, 0.0)
    spend, expected = {}, {}
    for g, w in world.geo_shares.items():
        added = change.get(g, 0.0)
        spend[g] = 0.0 if added is None else planned * w + added
        carried[g] = spend[g] / cost + curve.decay * carried.get(g, w * national)
        expected[g] = w * world.expected_conversions(channel, carried[g] / w, d.day)
    d.state["adstock"][channel] = sum(carried.values())
    return spend, expected


def _split(total: float, weights: list[float], decimals: int) -> list[float]:
    """``total`` split by ``weights``, rounded to ``decimals`` places, the rounding's remainder
    on the largest part: the parts add up to the rounded total."""
    parts = [round(total * w / sum(weights), decimals) for w in weights]
    parts[int(np.argmax(weights))] += round(round(total, decimals) - sum(parts), decimals)
    return [round(p, decimals) for p in parts]


def _platform_row(
    d: _Day,
    channel: str,
    campaign,
    spend: float,
    true_conv: int,
    value_per_conversion: float,
    by_geo: dict[str, float] | None = None,
) -> int:
    """One campaign's row in its ad platform's daily report, with the platform's own
    (over-counted) conversions; returns its clicks. A market with geos sends a geographic
    report: the campaign's row split over the regions it spent in, by their spend."""
    rng = d.rng
    share = campaign[2]
    c_spend = round(spend * share * float(rng.uniform(0.9, 1.1)), 2)
    clicks = int(c_spend / CPC[channel] * rng.uniform(0.85, 1.15))
    impressions = max(clicks, int(c_spend / CPM[channel] * 1000 * rng.uniform(0.9, 1.1)))
    claim = rng.uniform(1.3, 1.8)
    if channel in d.over_claim:  # a hostile platform: its own factor, same spread
        claim *= d.over_claim[channel] / DEFAULT_OVER_CLAIM
    claimed = round(float(true_conv * claim + rng.poisson(0.5)), 1)
    parts = [(None, c_spend, impressions, clicks, claimed)]
    if by_geo:
        geos = [g for g, x in by_geo.items() if x > 0] or list(by_geo)
        w = [max(by_geo[g], 1e-9) for g in geos]
        parts = list(
            zip(
                geos,
                _split(c_spend, w, 2),
                [int(x) for x in _split(impressions, w, 0)],
                [int(x) for x in _split(clicks, w, 0)],
                _split(claimed, w, 1),
                strict=True,
            )
        )
    for region, p_spend, p_impressions, p_clicks, p_claimed in parts:
        # never more clicks than impressions in a row, whatever the rounding of the split
        p_impressions = max(p_impressions, p_clicks)
        row = (p_spend, p_impressions, p_clicks, p_claimed)
        _report_row(d, channel, campaign, region, *row, value_per_conversion)
    return clicks


def _report_row(
    d: _Day, channel, campaign, region, c_spend, impressions, clicks, claimed, value_per_conversion
) -> None:
    """One row of a platform's report (Google Ads or Meta's shape); ``region`` in a
    geographic report."""
    day = d.day
    cid, name, _ = campaign
    value = round(claimed * value_per_conversion, 2)
    geo = [] if region is None else [region]
    if channel != "paid_social":
        d.google_rows.append(
            [
                day.isoformat(),
                cid,
                name,
                impressions,
                clicks,
                f"{c_spend:.2f}",
                claimed,
                value,
                "EUR",
                *geo,
            ]
        )
        return
    purchase = "offsite_conversion.fb_pixel_purchase"
    actions = json.dumps(
        [
            {"action_type": "link_click", "value": str(clicks)},
            {"action_type": purchase, "value": str(claimed)},
        ]
    )
    values = json.dumps([{"action_type": purchase, "value": str(value)}])
    d.meta_rows.append(
        [
            day.isoformat(),
            day.isoformat(),
            META_ACCOUNT,
            cid,
            name,
            f"{cid}01",
            f"{cid}0101",
            impressions,
            clicks,
            f"{c_spend:.2f}",
            "EUR",
            actions,
            values,
            *geo,
        ]
    )


def _lost_deals(d: _Day, channel: str, conversions: int, campaign_name: str) -> None:
    """Closed-lost CRM deals in proportion to the channel's offline conversions."""
    rng, day = d.rng, d.day
    lost = int(rng.poisson(0.4 * conversions * (1 - ONLINE_SHARE)))
    source, medium = TAGS[channel]
    for j in range(lost):
        contact = d.world.contacts[int(rng.integers(0, len(d.world.contacts)))]
        d.deals.append(
            [
                f"DLL{d.stamp}{channel[:2]}{j:04d}",
                contact["email"],
                f"{day.isoformat()} 09:00:00",
                "closedlost",
                f"{float(rng.uniform(200, 2000)):.2f}",
                "EUR",
                f"{day.isoformat()} 17:00:00",
                source,
                medium,
                campaign_name,
                "",
                "",
            ]
        )


def _email_channel(d: _Day, email_plan: list[tuple[str, str, int, str | None]]) -> dict:
    """Sends to the consented, subscribed contacts of each planned segment, then email's
    adstocked conversions credited to the sends that were clicked; returns its truth row."""
    sends = 0
    clicked: list[tuple[str | None, str]] = []
    for segment, asset_id, hour, decision_id in email_plan:
        campaign_id = decision_id or f"em-{d.stamp}-{segment}"
        for c in d.world.contacts:
            if (
                c["segment"] != segment
                or not c["email_consent"]
                or c["unsubscribed"]
                or c["created_day"] > d.day_index
            ):
                continue
            sends += 1
            if _send_email(d, c, segment, asset_id, hour, campaign_id, sends):
                clicked.append((decision_id, campaign_id))
    email_spend = sends * EMAIL_COST_PER_SEND
    curve = d.world.curves["email"]
    d.state["adstock"]["email"] = email_spend + curve.decay * d.state["adstock"].get("email", 0.0)
    expected = d.world.expected_conversions("email", d.state["adstock"]["email"], d.day)
    conversions = int(d.rng.poisson(expected))
    revenue = 0.0
    for k in range(conversions):
        decision_id, campaign_id = clicked[k % len(clicked)] if clicked else (None, f"em-{d.stamp}")
        revenue += d.conversion(
            "email", curve.value_per_conversion, decision_id, (campaign_id, "newsletter")
        )
    adstock = d.state["adstock"]["email"]
    return _truth_row(d, "email", email_spend, adstock, expected, conversions, revenue)


def _send_email(d: _Day, contact, segment, asset_id, hour, campaign_id, n: int) -> bool:
    """One send and what follows it (bounce, or delivery, open, click, unsubscribe) as
    email-platform events; returns whether it was clicked."""
    rng = d.rng
    open_rate, click_rate = d.world.asset_rates[segment][asset_id]
    msg = f"m{d.stamp}{n:06d}"

    def event(suffix: str, when: datetime, kind: str) -> None:
        d.email_rows.append(
            [
                f"{msg}-{suffix}",
                when.isoformat(),
                kind,
                contact["email"],
                msg,
                campaign_id,
                asset_id,
            ]
        )

    t = _ts(d.day, hour + rng.uniform(0, 0.5))
    event("s", t, "send")
    if rng.random() < 0.02:
        event("b", t + timedelta(minutes=1), "bounce")
        return False
    event("d", t + timedelta(minutes=1), "delivered")
    if rng.random() >= open_rate:
        return False
    t_open = t + timedelta(minutes=float(rng.exponential(40)))
    if t_open.date() != d.day:
        t_open = t + timedelta(minutes=5)
    event("o", t_open, "open")
    clicked = rng.random() < click_rate / max(open_rate, 1e-6)
    if clicked:
        event("c", t_open + timedelta(minutes=1), "click")
    if rng.random() < 0.004:
        event("u", t_open + timedelta(minutes=2), "unsubscribe")
    return clicked


def _baseline_demand(d: _Day) -> list[dict]:
    """Conversions nobody paid for (organic, direct, referral), following seasonality."""
    rows = []
    for channel, level in BASELINE_CHANNELS.items():
        expected = level * d.world.index(d.day)
        conversions = int(d.rng.poisson(expected))
        revenue = sum(
            d.conversion(channel, BASE_VALUE_PER_CONVERSION, None, None) for _ in range(conversions)
        )
        rows.append(_truth_row(d, channel, 0.0, 0.0, expected, conversions, revenue))
    return rows


def _write_day(d: _Day, writer: _Writer) -> None:
    """The day's files, one per source, as each tool exports them."""
    day = d.day
    new_contacts = [c for c in d.world.contacts if c["created_day"] == d.day_index]
    contact_rows = [
        [
            c["contact_id"],
            c["email"],
            c["phone"],
            c["segment"],
            str(c["email_consent"]).lower(),
            str(c["ads_consent"]).lower(),
            str(c["unsubscribed"]).lower(),
            f"{day.isoformat()} 08:00:00",
        ]
        for c in new_contacts
    ]
    writer.write("ga4", day, "\n".join(d.ga4) + "\n", "jsonl", len(d.ga4))
    geo = bool(d.regions)  # geographic reports: a region column
    google_header = GOOGLE_HEADER + ["Region"] * geo
    meta_header = META_HEADER + ["region"] * geo
    writer.write("google_ads", day, _csv(d.google_rows, google_header), rows=len(d.google_rows))
    writer.write("meta_ads", day, _csv(d.meta_rows, meta_header), rows=len(d.meta_rows))
    writer.write("crm_deals", day, _csv(d.deals, DEALS_HEADER), rows=len(d.deals))
    writer.write("email_events", day, _csv(d.email_rows, EMAIL_HEADER), rows=len(d.email_rows))
    offline_text = "Parameters:TimeZone=Europe/Berlin\n" + _csv(d.offline, OFFLINE_HEADER)
    writer.write("offline_conversions", day, offline_text, rows=len(d.offline))
    if contact_rows:
        writer.write(
            "crm_contacts", day, _csv(contact_rows, CONTACTS_HEADER), rows=len(contact_rows)
        )
    writer.summary.business_conversions += d.n_conv
    writer.summary.days += 1


def _write_assets(world: World, writer: _Writer, day: date) -> None:
    rows = [
        [a[k] for k in ASSET_HEADER[:-1]] + [f"{day.isoformat()} 00:00:00"] for a in world.assets
    ]
    writer.write("content_assets", day, _csv(rows, ASSET_HEADER), rows=len(rows))


def _save(home: DataHome, world: World, state: dict, truth: list[dict]) -> None:
    home.ground_truth.mkdir(parents=True, exist_ok=True)
    (home.ground_truth / "world.json").write_text(json.dumps(world.to_json(), indent=1))
    (home.ground_truth / "state.json").write_text(json.dumps(state))
    path = home.ground_truth / "daily_truth.csv"
    frame = pd.DataFrame(truth)
    if path.exists():
        old = pd.read_csv(path)
        frame = pd.concat([old[~old["date"].isin(frame["date"])], frame], ignore_index=True)
    frame = frame.sort_values(["date", "channel"])
    frame.to_csv(path, index=False)
    write_truth(home.ground_truth, world, frame, BASE_VALUE_PER_CONVERSION, DEFAULT_OVER_CLAIM)


def generate_history(home: DataHome, config: WorldConfig) -> SimulationSummary:
    """Write ``config.days`` days of signal files into the inbox, plus the ground truth."""
    home.ensure()
    world = build_world(config)
    spend = historical_spend(world)
    writer = _Writer(home, config.start, config.export_variants)
    state: dict = {"adstock": {}, "next_day": None}
    truth: list[dict] = []
    rng = np.random.default_rng([config.seed, 2])
    _write_assets(world, writer, config.start)
    for i in range(config.days):
        day = config.start + timedelta(days=i)
        plan = DayPlan({c: float(spend[c][i]) for c in spend}, {}, _email_day_plan(world, day, rng))
        _simulate_day(world, writer, i, day, plan, state, truth)
    state["next_day"] = (config.start + timedelta(days=config.days)).isoformat()
    state["last_spend"] = {c: float(spend[c][-1]) for c in spend}
    _save(home, world, state, truth)
    return writer.summary


def simulated_window(home: DataHome) -> tuple[date, date] | None:
    """First and last day the simulator has written into this home, or None if it has not.

    The demo re-uses a simulated market on later days: the window comes from the
    simulator's own state, not from today's date."""
    world_file, state_file = home.ground_truth / "world.json", home.ground_truth / "state.json"
    if not (world_file.exists() and state_file.exists()):
        return None
    start = date.fromisoformat(json.loads(world_file.read_text())["config"]["start"])
    next_day = json.loads(state_file.read_text()).get("next_day")
    if not next_day:
        return None
    return start, date.fromisoformat(next_day) - timedelta(days=1)


def _load_world(home: DataHome) -> tuple[World, dict]:
    data = json.loads((home.ground_truth / "world.json").read_text())
    cfg = dict(data["config"])
    cfg["start"] = date.fromisoformat(cfg["start"])
    cfg["shock"] = Shock(**cfg["shock"]) if cfg.get("shock") else None
    cfg["hostility"] = Hostility.from_json(cfg.get("hostility"))
    world = build_world(WorldConfig(**cfg))
    state = json.loads((home.ground_truth / "state.json").read_text())
    return world, state


@dataclass(frozen=True)
class SpendPulse:
    """An executed national spend pulse as the ad platform receives it (the connector's
    payload, :func:`experiments.governance.experiment_payloads`): from ``start``, periods of
    ``period_days`` on or off; a holdout spends nothing in its off periods, a spend-up adds
    ``amount`` EUR over its on periods, evenly."""

    channel: str
    start: date
    period_days: int
    schedule: tuple[bool, ...]
    spend_up: bool
    amount: float

    @classmethod
    def from_payload(cls, payload: dict) -> SpendPulse:
        test = payload["test"]
        first = date.fromisoformat(str(test["start"])[:10])
        last = date.fromisoformat(str(test["end"])[:10])
        schedule = tuple(bool(x) for x in payload["schedule_on"])
        return cls(
            channel=str(payload["channel"]),
            start=first,
            period_days=max(1, ((last - first).days + 1) // max(1, len(schedule))),
            schedule=schedule,
            spend_up=test.get("direction") == "spend_up",
            amount=abs(float(payload.get("amount_eur") or 0.0)),
        )

    def spend_on(self, day: date, planned: float) -> float:
        """The channel's spend on ``day`` given what the plan spends."""
        period = (day - self.start).days // self.period_days
        if day < self.start or period >= len(self.schedule):
            return planned
        on = self.schedule[period]
        if not self.spend_up:
            return planned if on else 0.0
        on_days = sum(self.schedule) * self.period_days
        return planned + self.amount / on_days if on and on_days else planned


@dataclass(frozen=True)
class GeoChange:
    """An executed geo test in one of its treated regions, as the ad platform receives it
    (one payload per region): from ``start`` to ``end``, a holdout spends nothing there, a
    spend-up adds ``amount`` EUR there, evenly over the days."""

    channel: str
    geo: str
    start: date
    end: date
    spend_up: bool
    amount: float

    @classmethod
    def from_payload(cls, payload: dict) -> GeoChange:
        test = payload["test"]
        return cls(
            channel=str(payload["channel"]),
            geo=str(payload["geo"]),
            start=date.fromisoformat(str(test["start"])[:10]),
            end=date.fromisoformat(str(test["end"])[:10]),
            spend_up=test.get("direction") == "spend_up",
            amount=abs(float(payload.get("amount_eur") or 0.0)),
        )

    def change_on(self, day: date) -> tuple[bool, float | None]:
        """Whether the test changes the region's spend on ``day``, and how (None: nothing
        spent; a number: EUR added)."""
        if not self.start <= day <= self.end:
            return False, 0.0
        if not self.spend_up:
            return True, None
        return True, self.amount / ((self.end - self.start).days + 1)


def _test_payloads(executed: pd.DataFrame) -> list[dict]:
    """The payloads of the executed incrementality tests, each test once, however many times
    its row was delivered (a spend-up adds its amount once)."""
    if not len(executed):
        return []
    tests = executed[executed["action_type"] == "incrementality_test"].drop_duplicates(
        "decision_id"
    )
    if tests.empty:
        return []
    from marketing_ops.experiments.governance import experiment_payloads

    return [p for row in tests.to_dict("records") for p in experiment_payloads(row)]


def spend_pulses(executed: pd.DataFrame) -> list[SpendPulse]:
    """The national spend pulses among executed incrementality tests."""
    payloads = _test_payloads(executed)
    return [SpendPulse.from_payload(p) for p in payloads if p["test"]["kind"] == "pulse"]


def geo_changes(executed: pd.DataFrame) -> list[GeoChange]:
    """The executed geo tests, one change per treated region (applied in a market with geos;
    audience holdouts need per-contact outcomes the market does not split spend by)."""
    payloads = _test_payloads(executed)
    return [GeoChange.from_payload(p) for p in payloads if p["test"]["kind"] == "geo"]


def simulate_outcomes(
    home: DataHome, executed: pd.DataFrame, start: date, days: int
) -> SimulationSummary:
    """Continue the world after an executed decision batch: budget actions set each paid
    channel's spend over their period (EUR for the period spread evenly over 7 days),
    executed spend pulses (incrementality tests) take it off or add to it in their flights,
    executed geo tests in their regions (a market with geos),
    content actions choose the asset and hour of each segment's email; agent-caused outcomes
    carry the decision id."""
    world, state = _load_world(home)
    writer = _Writer(home, world.config.start, world.config.export_variants)
    truth: list[dict] = []
    budget = executed[executed["action_type"] == "budget_allocation"] if len(executed) else executed
    content = (
        executed[executed["action_type"] == "content_selection"] if len(executed) else executed
    )
    pulses = spend_pulses(executed)
    changes = geo_changes(executed) if world.geo_shares else []
    last_spend = dict(state.get("last_spend", {}))
    for i in range(days):
        day = start + timedelta(days=i)
        day_index = (day - world.config.start).days
        spend, tags = dict(last_spend), {}
        # per channel, the latest plan covering the day wins; its rows (one per campaign
        # when planned per campaign) add up to the channel's spend
        active: dict[str, list[tuple[date, float, str]]] = {}
        for row in budget.itertuples():
            first = date.fromisoformat(str(row.scheduled_for)[:10])
            if first <= day < first + timedelta(days=7) and row.channel in spend:
                active.setdefault(row.channel, []).append(
                    (first, float(row.amount), row.decision_id)
                )
        for channel, rows in active.items():
            latest = [r for r in rows if r[0] == max(r[0] for r in rows)]
            spend[channel] = sum(r[1] for r in latest) / 7.0
            tags[channel] = latest[0][2]
        email = []
        for row in content.itertuples():
            when = pd.Timestamp(row.scheduled_for)
            if when.date() == day and row.audience_id in SEGMENTS and row.asset_id:
                email.append((row.audience_id, row.asset_id, int(when.hour), row.decision_id))
        last_spend = dict(spend)  # the plan carries on; a pulse's flight holds for its day
        for pulse in pulses:
            if pulse.channel in spend:
                spend[pulse.channel] = pulse.spend_on(day, spend[pulse.channel])
        by_geo: dict[str, dict[str, float | None]] = {}
        for change in changes:
            active, how = change.change_on(day)
            if active and change.geo in world.geo_shares:
                by_geo.setdefault(change.channel, {})[change.geo] = how
        plan = DayPlan(spend, tags, email, by_geo)
        _simulate_day(world, writer, day_index, day, plan, state, truth)
    state["next_day"] = (start + timedelta(days=days)).isoformat()
    state["last_spend"] = last_spend
    _save(home, world, state, truth)
    return writer.summary


@dataclass
class GroundTruth:
    """The simulator's truth: for tests and benchmarks only, never read by the product."""

    world: World
    daily: pd.DataFrame

    @property
    def curves(self) -> dict[str, ResponseCurve]:
        return self.world.curves

    def business_conversions(self, start: date, end: date) -> int:
        d = self.daily[
            (self.daily["date"] >= start.isoformat()) & (self.daily["date"] <= end.isoformat())
        ]
        return int(d["conversions"].sum())

    def expected_revenue(
        self, allocation: dict[str, float], start: date, days: int, tail_days: int = 0
    ) -> float:
        """True expected revenue of spending each channel's period amount evenly over ``days``
        from ``start``, over those days; with ``tail_days``, over those days and that many
        after them at the same daily spend (the following weeks held at the plan), scaled to
        one period (x days / (days + tail_days)): the budget optimiser's ``carryover_days``
        value (decisioning/budget/optimiser.py), so plan and score rank splits alike."""
        total = 0.0
        prior = self.daily[self.daily["date"] < start.isoformat()]
        span = [start + timedelta(days=i) for i in range(days + tail_days)]
        for channel, amount in allocation.items():
            carry = prior.loc[prior["channel"] == channel, "adstock"]
            initial = float(carry.iloc[-1]) if len(carry) else 0.0
            path = np.full(len(span), amount / days)
            conversions = self.world.conversions_path(channel, path, span, initial)
            total += float(conversions.sum() * self.curves[channel].value_per_conversion)
        return total * (days / (days + tail_days)) if tail_days > 0 else total

    def spend_lift(
        self,
        channel: str,
        start: date,
        end: date,
        high: float,
        low: float,
        readout_end: date | None = None,
        lift_start: date | None = None,
    ) -> float:
        """True expected conversions the channel sells at ``high`` times its actual spend on
        the days ``start``..``end``, less at ``low`` times it: what a perfect lift test reads (a
        holdout of 30 %: ``high=1, low=0.7``; a 30 % spend pulse: ``high=1.3, low=1``). Read
        out over ``lift_start`` (default ``start``)..``readout_end`` (default ``end``): the days
        after ``end`` (actual spend in both arms) add the change's carry-over, which a read-out
        over the test's own days does not see; ``lift_start = end + 1`` reads that tail alone
        (docs/contracts.md, experiments)."""
        until = end if readout_end is None else readout_end
        first_day = start if lift_start is None else lift_start
        if until < end:
            raise ValueError(f"read-out end {until} is before the test's end {end}")
        if not start <= first_day <= until:
            raise ValueError(f"lift start {first_day} is outside the test's {start}..{until}")
        rows = self.daily[self.daily["channel"] == channel].sort_values("date")
        days = pd.to_datetime(rows["date"]).dt.date.to_numpy()
        inside = (days >= start) & (days <= until)
        if not inside.any():
            raise ValueError(f"no {channel} days between {start} and {until}")
        if days[inside][-1] < until:
            raise ValueError(f"the read-out to {until} runs past the simulated days")
        first = int(np.flatnonzero(inside)[0])
        initial = float(rows["adstock"].iloc[first - 1]) if first > 0 else 0.0
        window = days[inside]
        spend = rows["spend"].to_numpy(dtype=float)[inside]
        changed = window <= end

        def arm(k: float) -> np.ndarray:
            return self.world.conversions_path(
                channel, spend * np.where(changed, k, 1.0), window, initial
            )

        return float((arm(high) - arm(low))[window >= first_day].sum())

    def oracle_allocation(
        self,
        total_budget: float,
        days: int,
        start: date,
        bounds: dict[str, tuple[float, float]] | None = None,
        tail_days: int = 0,
    ) -> dict[str, float]:
        """The allocation of ``total_budget`` over the paid channels that maximises true revenue
        (:meth:`expected_revenue`: with ``tail_days``, the plan's spend going on over them)."""
        from scipy.optimize import minimize

        channels = ["paid_search", "display", "paid_social"]
        b = [
            bounds.get(c, (0.0, total_budget)) if bounds else (0.0, total_budget) for c in channels
        ]
        scale = total_budget

        def neg(x: np.ndarray) -> float:
            return (
                -self.expected_revenue(
                    dict(zip(channels, x * scale, strict=True)), start, days, tail_days
                )
                / scale
            )

        best = None
        for x0 in (np.full(3, 1 / 3), np.array([0.6, 0.2, 0.2]), np.array([0.2, 0.2, 0.6])):
            res = minimize(
                neg,
                x0,
                method="SLSQP",
                bounds=[(lo / scale, hi / scale) for lo, hi in b],
                constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
            )
            if best is None or res.fun < best.fun:
                best = res
        return dict(zip(channels, (best.x * scale).tolist(), strict=True))


def load_ground_truth(home: DataHome) -> GroundTruth:
    world, _ = _load_world(home)
    return GroundTruth(world, pd.read_csv(home.ground_truth / "daily_truth.csv"))


__all__ = [
    "DayPlan",
    "GroundTruth",
    "SimulationSummary",
    "SpendPulse",
    "generate_history",
    "load_ground_truth",
    "simulate_outcomes",
    "spend_pulses",
]
