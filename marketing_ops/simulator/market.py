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
from marketing_ops.simulator.world import (
    BASELINE_CHANNELS,
    CAMPAIGNS,
    CPC,
    CPM,
    EMAIL_COST_PER_SEND,
    ONLINE_SHARE,
    SEGMENTS,
    TAGS,
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


def _simulate_day(
    world: World,
    writer: _Writer,
    day_index: int,
    day: date,
    plan: DayPlan,
    state: dict,
    truth: list[dict],
) -> None:
    cfg = world.config
    rng = np.random.default_rng([cfg.seed, 1000 + day.toordinal()])
    # Returning visitors draw from their own stream, so every other draw of the day (and the
    # ground truth built from them) is what it was before journeys were simulated.
    returning = np.random.default_rng([cfg.seed, 3000 + day.toordinal()])
    visitors: list[list] = [
        v for v in state.get("visitors", []) if day_index - v[1] <= RETURN_WINDOW_DAYS
    ]
    state["visitors"] = visitors
    stamp = day.strftime("%Y%m%d")
    contacts = world.contacts
    ga4: list[str] = []
    deals: list[list] = []
    offline: list[list] = []
    email_rows: list[list] = []
    google_rows: list[list] = []
    meta_rows: list[list] = []
    n_conv = 0

    def _returning_visitor(new_pseudo: str, converting: bool) -> str:
        """The browser of this session: a returning one that clicked an ad in the last
        RETURN_WINDOW_DAYS, or a new one (which joins the pool when it only browsed). A
        browser converts at most once, so each journey ends in one conversion."""
        share = RETURNING_CONVERT_SHARE if converting else RETURNING_BROWSE_SHARE
        if visitors and returning.random() < share:
            k = int(returning.integers(0, len(visitors)))
            return str(visitors.pop(k)[0] if converting else visitors[k][0])
        if not converting:
            visitors.append([new_pseudo, day_index])
        return new_pseudo

    def ga4_session(
        channel: str,
        kind: str | None,
        revenue: float,
        n: int,
        decision_id: str | None,
        gclid: str | None,
        campaign: tuple[str, str] | None,
        user_id: str | None,
    ) -> None:
        source, medium = TAGS[channel]
        t0 = int(_ts(day, rng.uniform(0, 23.9)).timestamp() * 1_000_000)
        pseudo = f"{int(rng.integers(10**9, 10**10))}.{int(t0 // 1_000_000)}"
        pseudo = _returning_visitor(pseudo, converting=kind is not None)
        session = int(t0 // 1_000_000)
        cts = {
            "manual_source": source,
            "manual_medium": medium,
            "manual_campaign_name": campaign[1] if campaign else None,
            "manual_campaign_id": decision_id or (campaign[0] if campaign else None),
            "manual_content": None,
            "gclid": gclid,
        }
        events = ["session_start", "page_view"] + ([kind] if kind else [])
        for k, name in enumerate(events):
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
                {"purchase_revenue": round(revenue, 2), "transaction_id": f"T{stamp}{n:05d}"}
                if name == "purchase"
                else None
            )
            ga4.append(
                json.dumps(
                    {
                        "event_date": stamp,
                        "event_timestamp": t0 + k * 7_000_000,
                        "event_name": name,
                        "user_pseudo_id": pseudo,
                        "user_id": user_id,
                        "event_params": params,
                        "traffic_source": {
                            "name": cts["manual_campaign_name"],
                            "medium": medium,
                            "source": source,
                        },
                        "collected_traffic_source": cts,
                        "ecommerce": ecommerce,
                        "items": [{"item_id": "SKU-1", "price": round(revenue, 2)}]
                        if ecommerce
                        else [],
                        "device": {
                            "category": ["desktop", "mobile", "tablet"][int(rng.integers(0, 3))]
                        },
                        "geo": {"country": cfg.country},
                    },
                    separators=(",", ":"),
                )
            )

    def conversion(
        channel: str, value: float, decision_id: str | None, campaign: tuple[str, str] | None
    ) -> float:
        nonlocal n_conv
        n_conv += 1
        contact = contacts[int(rng.integers(0, len(contacts)))]
        gclid = f"Cj0K{stamp}{n_conv:05d}" if channel == "paid_search" else None
        if rng.random() < ONLINE_SHARE:
            revenue = float(rng.gamma(8.0, value * 0.8 / 8.0))
            ga4_session(
                channel,
                "purchase",
                revenue,
                n_conv,
                decision_id,
                gclid,
                campaign,
                contact["contact_id"],
            )
        else:
            revenue = float(
                rng.gamma(8.0, value * (1 - ONLINE_SHARE * 0.8) / (1 - ONLINE_SHARE) / 8.0)
            )
            ga4_session(channel, "generate_lead", 0.0, n_conv, decision_id, gclid, campaign, None)
            source, medium = TAGS[channel]
            created = day - timedelta(days=int(rng.integers(0, 21)))
            deals.append(
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
                offline.append(
                    [
                        gclid,
                        "closed_won_deal",
                        local.strftime("%Y-%m-%d %H:%M:%S"),
                        f"{revenue:.2f}",
                        "EUR",
                    ]
                )
        return revenue

    # --- paid channels: spend -> adstock -> conversions
    for channel in ("paid_search", "display", "paid_social"):
        spend = float(plan.spend.get(channel, 0.0))
        effective = spend / world.cost_multiplier(channel, day)
        curve = world.curves[channel]
        state["adstock"][channel] = effective + curve.decay * state["adstock"].get(channel, 0.0)
        expected = world.expected_conversions(channel, state["adstock"][channel], day)
        conversions = int(rng.poisson(expected))
        decision_id = plan.budget_decisions.get(channel)
        revenue = 0.0
        campaigns = CAMPAIGNS[channel]
        shares = np.array([c[2] for c in campaigns])
        picks = (
            rng.choice(len(campaigns), size=conversions, p=shares / shares.sum())
            if conversions
            else []
        )
        per_campaign = np.bincount(np.asarray(picks, dtype=int), minlength=len(campaigns))
        for k in picks:
            revenue += conversion(
                channel, curve.value_per_conversion, decision_id, campaigns[k][:2]
            )
        clicks_total = 0
        for (cid, name, share), true_conv in zip(campaigns, per_campaign, strict=True):
            c_spend = round(spend * share * float(rng.uniform(0.9, 1.1)), 2)
            clicks = int(c_spend / CPC[channel] * rng.uniform(0.85, 1.15))
            impressions = max(clicks, int(c_spend / CPM[channel] * 1000 * rng.uniform(0.9, 1.1)))
            clicks_total += clicks
            claimed = round(float(true_conv * rng.uniform(1.3, 1.8) + rng.poisson(0.5)), 1)
            value = round(claimed * curve.value_per_conversion, 2)
            if channel == "paid_social":
                actions = json.dumps(
                    [
                        {"action_type": "link_click", "value": str(clicks)},
                        {
                            "action_type": "offsite_conversion.fb_pixel_purchase",
                            "value": str(claimed),
                        },
                    ]
                )
                values = json.dumps(
                    [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": str(value)}]
                )
                meta_rows.append(
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
                    ]
                )
            else:
                google_rows.append(
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
                    ]
                )
        for _ in range(int(clicks_total * cfg.traffic_scale)):
            ga4_session(channel, None, 0.0, 0, decision_id, None, campaigns[0][:2], None)
        lost = int(rng.poisson(0.4 * conversions * (1 - ONLINE_SHARE)))
        for j in range(lost):
            source, medium = TAGS[channel]
            contact = contacts[int(rng.integers(0, len(contacts)))]
            deals.append(
                [
                    f"DLL{stamp}{channel[:2]}{j:04d}",
                    contact["email"],
                    f"{day.isoformat()} 09:00:00",
                    "closedlost",
                    f"{float(rng.uniform(200, 2000)):.2f}",
                    "EUR",
                    f"{day.isoformat()} 17:00:00",
                    source,
                    medium,
                    campaigns[0][1],
                    "",
                    "",
                ]
            )
        truth.append(
            {
                "date": day.isoformat(),
                "channel": channel,
                "spend": spend,
                "adstock": state["adstock"][channel],
                "expected_conversions": expected,
                "conversions": conversions,
                "revenue": revenue,
            }
        )

    # --- email: sends to consented, subscribed contacts of each planned segment
    sends = 0
    email_conv_sources: list[tuple[str | None, str]] = []
    for segment, asset_id, hour, decision_id in plan.email:
        open_rate, click_rate = world.asset_rates[segment][asset_id]
        campaign_id = decision_id or f"em-{stamp}-{segment}"
        for c in contacts:
            if (
                c["segment"] != segment
                or not c["email_consent"]
                or c["unsubscribed"]
                or c["created_day"] > day_index
            ):
                continue
            sends += 1
            msg = f"m{stamp}{sends:06d}"
            t = _ts(day, hour + rng.uniform(0, 0.5))
            email_rows.append(
                [f"{msg}-s", t.isoformat(), "send", c["email"], msg, campaign_id, asset_id]
            )
            if rng.random() < 0.02:
                email_rows.append(
                    [
                        f"{msg}-b",
                        (t + timedelta(minutes=1)).isoformat(),
                        "bounce",
                        c["email"],
                        msg,
                        campaign_id,
                        asset_id,
                    ]
                )
                continue
            email_rows.append(
                [
                    f"{msg}-d",
                    (t + timedelta(minutes=1)).isoformat(),
                    "delivered",
                    c["email"],
                    msg,
                    campaign_id,
                    asset_id,
                ]
            )
            if rng.random() < open_rate:
                t_open = t + timedelta(minutes=float(rng.exponential(40)))
                if t_open.date() != day:
                    t_open = t + timedelta(minutes=5)
                email_rows.append(
                    [f"{msg}-o", t_open.isoformat(), "open", c["email"], msg, campaign_id, asset_id]
                )
                if rng.random() < click_rate / max(open_rate, 1e-6):
                    email_rows.append(
                        [
                            f"{msg}-c",
                            (t_open + timedelta(minutes=1)).isoformat(),
                            "click",
                            c["email"],
                            msg,
                            campaign_id,
                            asset_id,
                        ]
                    )
                    email_conv_sources.append((decision_id, campaign_id))
                if rng.random() < 0.004:
                    email_rows.append(
                        [
                            f"{msg}-u",
                            (t_open + timedelta(minutes=2)).isoformat(),
                            "unsubscribe",
                            c["email"],
                            msg,
                            campaign_id,
                            asset_id,
                        ]
                    )
    email_spend = sends * EMAIL_COST_PER_SEND
    curve = world.curves["email"]
    state["adstock"]["email"] = email_spend + curve.decay * state["adstock"].get("email", 0.0)
    expected = world.expected_conversions("email", state["adstock"]["email"], day)
    conversions = int(rng.poisson(expected))
    revenue = 0.0
    for k in range(conversions):
        decision_id, campaign_id = (
            email_conv_sources[k % len(email_conv_sources)]
            if email_conv_sources
            else (None, f"em-{stamp}")
        )
        revenue += conversion(
            "email", curve.value_per_conversion, decision_id, (campaign_id, "newsletter")
        )
    truth.append(
        {
            "date": day.isoformat(),
            "channel": "email",
            "spend": email_spend,
            "adstock": state["adstock"]["email"],
            "expected_conversions": expected,
            "conversions": conversions,
            "revenue": revenue,
        }
    )

    # --- baseline demand
    for channel, level in BASELINE_CHANNELS.items():
        expected = level * world.index(day)
        conversions = int(rng.poisson(expected))
        revenue = sum(conversion(channel, 75.0, None, None) for _ in range(conversions))
        truth.append(
            {
                "date": day.isoformat(),
                "channel": channel,
                "spend": 0.0,
                "adstock": 0.0,
                "expected_conversions": expected,
                "conversions": conversions,
                "revenue": revenue,
            }
        )

    new_contacts = [c for c in contacts if c["created_day"] == day_index]
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
    writer.write("ga4", day, "\n".join(ga4) + "\n", "jsonl", len(ga4))
    writer.write("google_ads", day, _csv(google_rows, GOOGLE_HEADER), rows=len(google_rows))
    writer.write("meta_ads", day, _csv(meta_rows, META_HEADER), rows=len(meta_rows))
    writer.write("crm_deals", day, _csv(deals, DEALS_HEADER), rows=len(deals))
    writer.write("email_events", day, _csv(email_rows, EMAIL_HEADER), rows=len(email_rows))
    offline_text = "Parameters:TimeZone=Europe/Berlin\n" + _csv(offline, OFFLINE_HEADER)
    writer.write("offline_conversions", day, offline_text, rows=len(offline))
    if contact_rows:
        writer.write(
            "crm_contacts", day, _csv(contact_rows, CONTACTS_HEADER), rows=len(contact_rows)
        )
    writer.summary.business_conversions += n_conv
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
    frame.sort_values(["date", "channel"]).to_csv(path, index=False)


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
    world = build_world(WorldConfig(**cfg))
    state = json.loads((home.ground_truth / "state.json").read_text())
    return world, state


def simulate_outcomes(
    home: DataHome, executed: pd.DataFrame, start: date, days: int
) -> SimulationSummary:
    """Continue the world after an executed decision batch: budget actions set each paid
    channel's spend over their period (EUR for the period spread evenly over 7 days),
    content actions choose the asset and hour of each segment's email; agent-caused outcomes
    carry the decision id."""
    world, state = _load_world(home)
    writer = _Writer(home, world.config.start, world.config.export_variants)
    truth: list[dict] = []
    budget = executed[executed["action_type"] == "budget_allocation"] if len(executed) else executed
    content = (
        executed[executed["action_type"] == "content_selection"] if len(executed) else executed
    )
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
        _simulate_day(world, writer, day_index, day, DayPlan(spend, tags, email), state, truth)
        last_spend = spend
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

    def expected_revenue(self, allocation: dict[str, float], start: date, days: int) -> float:
        """True expected revenue of spending each channel's period amount evenly."""
        total = 0.0
        prior = self.daily[self.daily["date"] < start.isoformat()]
        for channel, amount in allocation.items():
            curve = self.curves[channel]
            carry = prior.loc[prior["channel"] == channel, "adstock"]
            initial = float(carry.iloc[-1]) if len(carry) else 0.0
            path = np.full(days, amount / days) / np.array(
                [
                    self.world.cost_multiplier(channel, start + timedelta(days=i))
                    for i in range(days)
                ]
            )
            index = np.array([self.world.index(start + timedelta(days=i)) for i in range(days)])
            total += float(
                curve.conversions(path, index, initial).sum() * curve.value_per_conversion
            )
        return total

    def oracle_allocation(
        self,
        total_budget: float,
        days: int,
        start: date,
        bounds: dict[str, tuple[float, float]] | None = None,
    ) -> dict[str, float]:
        """The allocation of ``total_budget`` over the paid channels that maximises true revenue."""
        from scipy.optimize import minimize

        channels = ["paid_search", "display", "paid_social"]
        b = [
            bounds.get(c, (0.0, total_budget)) if bounds else (0.0, total_budget) for c in channels
        ]
        scale = total_budget

        def neg(x: np.ndarray) -> float:
            return (
                -self.expected_revenue(dict(zip(channels, x * scale, strict=True)), start, days)
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
    "generate_history",
    "load_ground_truth",
    "simulate_outcomes",
]
