"""Shape the marts into one frame per graph table: pure, no database.

:func:`graph_frames` is the whole mapping from the warehouse to the schema of
:mod:`.schema`: which rows become nodes, which edges they get, which policy verdicts each node
receives, and which input version every row was built from. Edges whose ends are unknown are
dropped here and counted (``dangling``), so the graph itself never holds a dangling edge and
the integrity check can still say that the warehouse had one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketing_ops.graph.schema import NODE_KEYS, NODE_TABLES, REL_TABLES
from marketing_ops.warehouse import frame_version

__all__ = [
    "POLICIES",
    "ContentRules",
    "GraphFrames",
    "GraphInputs",
    "graph_frames",
    "readiness",
    "table_hash",
]

# policy_id -> (kind, node table it governs, what it says). GOVERNED_BY edges carry each
# node's verdict against the policies of its kind.
POLICIES: dict[str, tuple[str, str, str]] = {
    "compliance_approval": (
        "compliance",
        "ContentAsset",
        "Content is sent only once compliance approved this version.",
    ),
    "brand_safety": ("brand_safety", "ContentAsset", "Content must be marked brand safe."),
    "regulated_claims": (
        "regulatory",
        "ContentAsset",
        "A regulated claim (pricing, savings) needs compliance approval of this version.",
    ),
    "channel_consent": (
        "regulatory",
        "Channel",
        "Contacts are reached on a channel only with consent for it (email: email opt-in; "
        "paid media: ads consent); earned channels cannot be sent to.",
    ),
    "content_channels": (
        "content_policy",
        "Channel",
        "The agent sends content only on the channels the content policy allows.",
    ),
    "audience_suppression": (
        "content_policy",
        "Audience",
        "Suppressed audiences never receive agent content.",
    ),
}
# Fields whose change between two versions of an asset VERSION_OF names.
_VERSIONED_FIELDS = (
    "title",
    "body",
    "topic",
    "format",
    "channel_fit",
    "compliance_status",
    "brand_safe",
    "regulated_claim",
)
_NOT_CONTENT = {"data_version", "row_hash", "embedding"}


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


@dataclass(frozen=True)
class ContentRules:
    """The parts of the content policy the graph records as GOVERNED_BY verdicts.

    ``allowed_channels`` None means the policy names no channel list (every channel passes).
    ``version`` is the policy set's version, carried by the verdicts built from it.
    """

    allowed_channels: tuple[str, ...] | None = None
    suppressed_audiences: tuple[str, ...] = ()
    version: str = "no-policy"


@dataclass(frozen=True)
class GraphInputs:
    """The marts the graph is built from (frames as read from the warehouse).

    ``content_assets`` holds one row per asset version (``marts.dim_content_asset_version``,
    with ``is_current``); a frame of latest versions only (``marts.dim_content_asset``) works
    too: then the highest version of each asset is current.
    """

    dim_audience: pd.DataFrame
    content_assets: pd.DataFrame
    dim_channel: pd.DataFrame
    dim_campaign: pd.DataFrame
    fct_email_engagement: pd.DataFrame
    # Email sends per audience over the 7 days up to the as-of day (frequency caps).
    email_sends_7d: pd.DataFrame = field(default_factory=lambda: _empty("audience_id", "sends"))
    # Email sends per campaign and asset (marts.fct_campaign_content): USES edges.
    campaign_content: pd.DataFrame = field(
        default_factory=lambda: _empty(
            "campaign_id", "asset_id", "sends", "first_sent_at", "last_sent_at"
        )
    )
    rules: ContentRules = field(default_factory=ContentRules)

    def versions(self) -> dict[str, str]:
        """Content version of every input: what each graph row says it was built from."""
        return {
            "marts.dim_audience": frame_version(self.dim_audience),
            "marts.dim_content_asset_version": frame_version(self.content_assets),
            "marts.dim_channel": frame_version(self.dim_channel),
            "marts.dim_campaign": frame_version(self.dim_campaign),
            "marts.fct_email_engagement": frame_version(self.fct_email_engagement),
            "marts.fct_audience_email_daily@7d": frame_version(self.email_sends_7d),
            "marts.fct_campaign_content": frame_version(self.campaign_content),
            "policies": self.rules.version,
        }


@dataclass
class GraphFrames:
    """One frame per graph table plus what the mapping had to leave out."""

    tables: dict[str, pd.DataFrame]
    # Rows of the marts naming an audience, asset, campaign or channel the graph lacks.
    dangling: dict[str, int]
    versions: dict[str, str]

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}


def _stamp(versions: dict[str, str], *names: str) -> str:
    """The data_version of rows built from ``names``: ``input@version`` joined by ``+``."""
    return "+".join(f"{n}@{versions[n]}" for n in names)


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's content (not its provenance), as hex text. pandas hashes
    with a fixed key, so the same content gives the same hash in every process."""
    columns = [c for c in frame.columns if c not in _NOT_CONTENT]
    if frame.empty:
        return np.array([], dtype=object)
    try:
        hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    except TypeError:  # unhashable values in an object column: hash their text
        hashed = pd.util.hash_pandas_object(frame[columns].astype(str), index=False).to_numpy()
    return np.array([f"{h:016x}" for h in hashed], dtype=object)


def table_hash(frame: pd.DataFrame) -> str:
    """A hash of a whole table's content, ignoring provenance: equal hashes, equal rows."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(",".join(c for c in frame.columns if c not in _NOT_CONTENT).encode())
    rows = frame["row_hash"] if "row_hash" in frame else _row_hashes(frame)
    digest.update("\n".join(rows).encode())
    return digest.hexdigest()


def readiness(assets: pd.DataFrame) -> pd.Series:
    """Share of the readiness checks an asset passes: title, body, topic, a channel it fits,
    compliance approval and brand safety. 1.0 = ready to send."""
    filled = [
        assets[c].fillna("").astype(str).str.strip() != "" for c in ("title", "body", "topic")
    ]
    checks = [
        *filled,
        assets["channel_fit"].fillna("").astype(str).str.strip() != "",
        assets["compliance_status"].fillna("").astype(str) == "approved",
        assets["brand_safe"].fillna(False).astype(bool),
    ]
    return pd.concat(checks, axis=1).mean(axis=1).astype(float)


def search_text(title: object, body: object, topic: object) -> str:
    """The text an asset is found by (full-text index and embedding)."""
    parts = [str(v).strip() for v in (title, body) if isinstance(v, str) and v.strip()]
    if isinstance(topic, str) and topic.strip():
        parts.append(topic.replace("_", " ").strip())
    return ". ".join(parts)


def _bool(series: pd.Series) -> pd.Series:
    """Booleans from real bools or the catalogue's "true"/"false" text; missing is False."""
    text = series.astype(object).map(lambda v: str(v).strip().lower() if v is not None else "")
    return text.isin({"true", "1", "yes", "t"})


def _consent_basis(channel: str, channel_type: object) -> str | None:
    """Which audience count says who may be reached on a channel: email opt-in for email,
    ads consent for paid media; earned channels (organic, direct, referral) reach nobody."""
    if channel == "email":
        return "email_consented"
    return "ads_consented" if channel_type == "paid" else None


def _content_nodes(assets: pd.DataFrame, stamp: str) -> pd.DataFrame:
    a = assets.copy()
    a["version"] = a["version"].astype(int)
    if "is_current" not in a:
        a["is_current"] = a["version"] == a.groupby("asset_id")["version"].transform("max")
    a["is_current"] = a["is_current"].fillna(False).astype(bool)
    a["brand_safe"] = _bool(a["brand_safe"])
    a["regulated_claim"] = _bool(a["regulated_claim"])
    if "first_seen_on" not in a:
        a["first_seen_on"] = None
    a["first_seen_on"] = pd.to_datetime(a["first_seen_on"]).dt.date.astype(object)
    a["first_seen_on"] = a["first_seen_on"].where(a["first_seen_on"].notna(), None)
    a["readiness"] = readiness(a) if len(a) else pd.Series(dtype=float)
    a["asset_key"] = [f"{i}@v{v}" for i, v in zip(a["asset_id"], a["version"], strict=True)]
    a["search_text"] = [
        search_text(t, b, p) for t, b, p in zip(a["title"], a["body"], a["topic"], strict=True)
    ]
    a["text_hash"] = [
        hashlib.blake2b(t.encode(), digest_size=8).hexdigest() for t in a["search_text"]
    ]
    a["embedding"] = None
    a["data_version"] = stamp
    columns = ["asset_key", "asset_id", "version", "is_current", "title", "body", "topic"]
    columns += ["format", "channel_fit", "compliance_status", "brand_safe", "regulated_claim"]
    columns += ["readiness", "first_seen_on", "search_text", "text_hash", "embedding"]
    return a.sort_values(["asset_id", "version"])[[*columns, "data_version"]]


def _asset_verdicts(assets: pd.DataFrame, stamp: str) -> list[tuple]:
    rows = []
    for a in assets.itertuples(index=False):
        approved = a.compliance_status == "approved"
        verdicts = {
            "compliance_approval": (approved, f"compliance status is {a.compliance_status}"),
            "brand_safety": (
                bool(a.brand_safe),
                "marked brand safe" if a.brand_safe else "not marked brand safe",
            ),
        }
        if bool(a.regulated_claim):
            verdicts["regulated_claims"] = (
                approved,
                "regulated claim, approved" if approved else "regulated claim without approval",
            )
        for policy, (passes, reason) in verdicts.items():
            rows.append(("ContentAsset", a.asset_key, policy, bool(passes), reason, stamp))
    return rows


def _channel_verdicts(channels: pd.DataFrame, rules: ContentRules, stamp: str) -> list[tuple]:
    rows = []
    for c in channels.itertuples(index=False):
        basis = c.consent_basis if isinstance(c.consent_basis, str) else None
        rows.append(
            (
                "Channel",
                c.channel,
                "channel_consent",
                basis is not None,
                f"reach counted from {basis}"
                if basis
                else f"{c.channel_type} channel: no consent basis, cannot be sent to",
            )
        )
        allowed = rules.allowed_channels is None or c.channel in rules.allowed_channels
        reason = (
            "content policy lists no channels"
            if rules.allowed_channels is None
            else ("allowed by the content policy" if allowed else "not in allowed_channels")
        )
        rows.append(("Channel", c.channel, "content_channels", allowed, reason))
    return [(*r, stamp) for r in rows]


def _audience_verdicts(audiences: pd.Series, rules: ContentRules, stamp: str) -> list[tuple]:
    suppressed = set(rules.suppressed_audiences)
    return [
        (
            "Audience",
            a,
            "audience_suppression",
            a not in suppressed,
            "suppressed by the content policy" if a in suppressed else "not suppressed",
            stamp,
        )
        for a in audiences
    ]


def _version_links(assets: pd.DataFrame, stamp: str) -> pd.DataFrame:
    """Each version to the one it revises, naming the fields that changed (vectorised: a
    catalogue has tens of thousands of versions)."""
    ordered = assets.sort_values(["asset_id", "version"])
    prev = ordered.groupby("asset_id").shift(1)
    has_prev = prev["asset_key"].notna()
    new, old = ordered[has_prev], prev[has_prev]
    changed = pd.DataFrame(
        {
            f: new[f].astype(str).to_numpy() != old[f].astype(str).to_numpy()
            for f in _VERSIONED_FIELDS
        }
    )
    names = np.array(_VERSIONED_FIELDS, dtype=object)
    fields = [", ".join(names[row]) or "none" for row in changed.to_numpy()]
    return pd.DataFrame(
        {
            "from": new["asset_key"].to_numpy(),
            "to": old["asset_key"].to_numpy(),
            "changed_fields": fields,
            "data_version": stamp,
        }
    )


def _ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
    den = den.astype(float)
    return np.where(den > 0, num.astype(float) / den.where(den > 0, 1.0), 0.0)


def _timestamps(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def graph_frames(inputs: GraphInputs) -> GraphFrames:
    """One frame per node and relationship table, sorted by key, with ``data_version`` (and
    ``row_hash`` on nodes) filled in.

    Relationships whose ends are missing are dropped and counted in ``dangling``.
    """
    versions = inputs.versions()
    rules = inputs.rules
    aud = inputs.dim_audience.sort_values("audience_id")
    channels = inputs.dim_channel.sort_values("channel").copy()
    campaigns = inputs.dim_campaign.sort_values("campaign_id")
    eng = inputs.fct_email_engagement
    dangling: dict[str, int] = {}

    t: dict[str, pd.DataFrame] = {}
    t["Audience"] = aud[
        ["audience_id", "contacts", "email_consented", "ads_consented", "unsubscribed"]
    ].assign(data_version=_stamp(versions, "marts.dim_audience"))
    content_stamp = _stamp(versions, "marts.dim_content_asset_version")
    assets = _content_nodes(inputs.content_assets, content_stamp)
    t["ContentAsset"] = assets
    channels["consent_basis"] = pd.Series(
        [
            _consent_basis(ch, kind)
            for ch, kind in zip(channels["channel"], channels["channel_type"], strict=True)
        ],
        index=channels.index,
        dtype=object,  # None stays None (pandas 3's string dtype would make it NaN)
    )
    t["Channel"] = channels[["channel", "channel_type", "is_paid", "consent_basis"]].assign(
        data_version=_stamp(versions, "marts.dim_channel")
    )
    t["Campaign"] = campaigns[["campaign_id", "campaign_name", "platform"]].assign(
        data_version=_stamp(versions, "marts.dim_campaign")
    )
    t["Policy"] = pd.DataFrame(
        [
            (pid, kind, on, text, f"policies@{rules.version}")
            for pid, (kind, on, text) in POLICIES.items()
        ],
        columns=["policy_id", "kind", "applies_to", "description", "data_version"],
    ).sort_values("policy_id")

    known_aud = set(aud["audience_id"])
    known_channels = set(channels["channel"])
    known_campaigns = set(campaigns["campaign_id"])
    current = dict(
        zip(
            assets.loc[assets["is_current"], "asset_id"],
            assets.loc[assets["is_current"], "asset_key"],
            strict=True,
        )
    )

    ok = eng["audience_id"].isin(known_aud) & eng["asset_id"].isin(current)
    dangling["RESPONDS_TO"] = int((~ok).sum())
    eng = eng[ok].sort_values(["audience_id", "asset_id"])
    t["RESPONDS_TO"] = pd.DataFrame(
        {
            "from": eng["audience_id"],
            "to": eng["asset_id"].map(current),
            "channel": eng["channel"] if "channel" in eng else "email",
            "sends": eng["sends"],
            "opens": eng["opens"],
            "clicks": eng["clicks"],
            "conversions": eng["conversions"],
            "ctr": _ratio(eng["clicks"], eng["sends"]),
            "cvr": _ratio(eng["conversions"], eng["sends"]),
            "last_seen_at": _timestamps(eng["last_seen_at"]),
            "data_version": _stamp(versions, "marts.fct_email_engagement"),
        }
    )

    fit_rows, unknown_fit = [], 0
    for a in assets.itertuples(index=False):
        for ch in str(a.channel_fit or "").split("|"):
            ch = ch.strip()
            if not ch:
                continue
            if ch in known_channels:
                fit_rows.append((a.asset_key, ch, a.format, content_stamp))
            else:
                unknown_fit += 1
    dangling["AVAILABLE_ON"] = unknown_fit
    t["AVAILABLE_ON"] = pd.DataFrame(
        fit_rows, columns=["from", "to", "format_fit", "data_version"]
    ).sort_values(["from", "to"])

    recent = inputs.email_sends_7d
    recent_sends = recent.groupby("audience_id")["sends"].sum().to_dict() if len(recent) else {}
    reach_stamp = _stamp(versions, "marts.dim_audience", "marts.fct_audience_email_daily@7d")
    basis = dict(zip(channels["channel"], channels["consent_basis"], strict=True))
    reach_rows = []
    for a in aud.itertuples(index=False):
        for ch in sorted(known_channels):
            column = basis[ch]
            size = int(getattr(a, column) or 0) if isinstance(column, str) else 0
            per_contact = 0.0
            if ch == "email" and size > 0:
                per_contact = float(recent_sends.get(a.audience_id, 0.0)) / size
            reach_rows.append((a.audience_id, ch, size, per_contact, reach_stamp))
    t["REACHABLE_VIA"] = pd.DataFrame(
        reach_rows,
        columns=["from", "to", "consented_size", "sends_per_contact_7d", "data_version"],
    )

    runs = campaigns[campaigns["channel"].isin(known_channels)]
    dangling["RUNS_ON"] = len(campaigns) - len(runs)
    t["RUNS_ON"] = pd.DataFrame(
        {
            "from": runs["campaign_id"],
            "to": runs["channel"],
            "data_version": _stamp(versions, "marts.dim_campaign"),
        }
    )

    cc = inputs.campaign_content
    ok = cc["campaign_id"].isin(known_campaigns) & cc["asset_id"].isin(current)
    dangling["USES"] = int((~ok).sum())
    cc = cc[ok].sort_values(["campaign_id", "asset_id"])
    t["USES"] = pd.DataFrame(
        {
            "from": cc["campaign_id"],
            "to": cc["asset_id"].map(current),
            "sends": cc["sends"],
            "first_sent_at": _timestamps(cc["first_sent_at"]),
            "last_sent_at": _timestamps(cc["last_sent_at"]),
            "data_version": _stamp(versions, "marts.fct_campaign_content"),
        }
    )

    t["VERSION_OF"] = _version_links(assets, content_stamp)

    policy_stamp = f"policies@{rules.version}"
    verdicts = [
        *_asset_verdicts(assets, content_stamp),
        *_channel_verdicts(
            t["Channel"], rules, f"{policy_stamp}+{_stamp(versions, 'marts.dim_channel')}"
        ),
        *_audience_verdicts(aud["audience_id"], rules, policy_stamp),
    ]
    t["GOVERNED_BY"] = pd.DataFrame(
        verdicts, columns=["from_table", "from", "to", "passes", "reason", "data_version"]
    )

    for name in NODE_TABLES:
        frame = t[name].reset_index(drop=True)
        cols = [c for c in frame.columns if c != "data_version"]
        frame["row_hash"] = _row_hashes(frame)
        t[name] = frame[[*cols, "row_hash", "data_version"]]
        if frame[NODE_KEYS[name]].duplicated().any():
            dup = frame.loc[frame[NODE_KEYS[name]].duplicated(), NODE_KEYS[name]].iloc[0]
            raise ValueError(f"graph table {name}: key {NODE_KEYS[name]}={dup!r} appears twice")
    for name in REL_TABLES:
        t[name] = t[name].reset_index(drop=True)
    return GraphFrames(tables=t, dangling=dangling, versions=versions)
