"""Content, channel and send time per audience: rules first, then Thompson sampling.

1. **Rules before choice.** Every graph candidate (audience, asset, channel) is checked
   against consent, suppression, allowed channels, the frequency cap, compliance and brand
   safety (``compliance.yaml``) and fatigue (an audience rests from an asset it saw recently).
   The graph query applies consent, caps and compliance too; they are checked again here
   because a send to the wrong people cannot be undone. What fails is kept, with the rule and
   the reason, for the rationale; an audience left with nothing is *held* (or, when only
   fatigue emptied it, gets the policy's fallback asset).
2. **Thompson probabilities.** Each arm's click rate per send has a Beta posterior
   (:mod:`.scoring`). The probability that each arm is the best of its audience is computed
   by quadrature rather than Monte Carlo (:func:`thompson_probabilities`): one pass over a
   grid per audience, so a million candidates take seconds and the numbers carry no
   sampling noise.
3. **Bounded by policy.** Every arm keeps at least the propensity floor and the chance of
   sending anything but the current best guess is capped at ``max_share``; the arm is then
   drawn from exactly these probabilities, so the logged propensity is the true probability
   of the choice (what off-policy evaluation of later policies needs).
4. **Send time.** The chosen arm goes out at the audience's hour with the best smoothed click
   rate (:func:`.scoring.hour_lifts`); every other candidate hour is a scored alternative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from scipy import special

from marketing_ops.decisioning.content.scoring import (
    ACTION_SCORE_COLUMNS,
    candidate_actions,
    hour_lifts,
    posterior_parameters,
    score_actions,
)
from marketing_ops.decisioning.policy import CompliancePolicy, ContentPolicy

__all__ = [
    "CHOICE_COLUMNS",
    "EXCLUSION_COLUMNS",
    "apply_content_rules",
    "best_send_hour",
    "bounded_propensities",
    "choose_content",
    "grouped_bounded_propensities",
    "thompson_probabilities",
]

CHOICE_COLUMNS = [
    "audience_id",
    "action",  # "send" or "hold"
    "asset_id",
    "channel",
    "scheduled_for",
    "send_hour",
    "propensity",
    "confidence",  # P(the chosen asset's click rate >= the audience's typical eligible asset)
    *ACTION_SCORE_COLUMNS,
    "consented_size",
    "readiness",
    "regulated_claim",
    "graph_path",
    "send_hour_reason",
    "reason",
    "rules_applied",  # the rules that removed candidates of this audience, in words
    "alternatives",  # other arms: {asset_id, channel, propensity, expected_*}
    "hour_alternatives",  # other hours for the chosen arm: {hour, expected_clicks, ...}
]
EXCLUSION_COLUMNS = ["audience_id", "asset_id", "channel", "rule", "reason"]
_SCORES = tuple(ACTION_SCORE_COLUMNS)  # every score a choice carries
_ALT_SCORES = (
    "expected_ctr",
    "expected_clicks",
    "expected_conversions",
    "expected_revenue",
    "expected_profit",
)
_SLOT_SCORES = ("expected_clicks", "expected_conversions", "expected_revenue", "expected_profit")
_GRID = 256  # quadrature points per audience
_SPAN = 6.0  # standard deviations around the posteriors the grid covers
_CHUNK = 2_000_000  # arms x grid points per quadrature chunk (memory bound)
_HARD_RULES = (
    "consent",
    "channel",
    "frequency_cap",
    "compliance",
    "brand_safety",
    "regulated_claim",
    "blocked_topic",
    "blocked_term",
)


# ------------------------------------------------------------------ rules before choice
def _column(frame: pd.DataFrame, name: str, default: object) -> pd.Series:
    return frame[name] if name in frame else pd.Series(default, index=frame.index)


def apply_content_rules(
    candidates: pd.DataFrame,
    content: ContentPolicy,
    compliance: CompliancePolicy | None,
    as_of: date,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split candidates into those that may be chosen and those that may not (with why).

    Suppressed audiences are removed first and never named again. A candidate failing a hard
    rule (consent, channel, cap, compliance, brand safety, regulated claims, blocked topic or
    term) is out; one failing only fatigue is out unless it is the fallback asset of an
    audience that fatigue left with nothing. A rule whose facts are missing from the frame
    (no such column) is not checked here: the graph query already applied it.
    """
    frame = candidates.copy()
    for col in ("sends", "opens", "clicks", "conversions", "consented_size"):
        frame[col] = pd.to_numeric(_column(frame, col, 0.0), errors="coerce").fillna(0.0)
    frame["audience_id"] = frame["audience_id"].astype(str)
    frame["asset_id"] = frame["asset_id"].astype(str)
    frame["channel"] = frame["channel"].astype(str)
    frame = frame[~frame["audience_id"].isin(content.suppressed_audiences)]
    frame = frame.drop_duplicates(subset=["audience_id", "asset_id", "channel"]).reset_index(
        drop=True
    )
    send_day = as_of + timedelta(days=1)
    fails: dict[str, tuple[np.ndarray, str]] = {}
    fails["consent"] = (
        (frame["consented_size"] <= 0).to_numpy(),
        "no consented, subscribed contacts on this channel",
    )
    fails["channel"] = (
        (~frame["channel"].isin(content.allowed_channels)).to_numpy(),
        f"channel not allowed by policy (allowed channels: {', '.join(content.allowed_channels)})",
    )
    if "sends_per_contact_7d" in frame:
        recent = pd.to_numeric(frame["sends_per_contact_7d"], errors="coerce").fillna(0.0)
        fails["frequency_cap"] = (
            (recent + 1.0 > content.frequency_cap_per_week).to_numpy(),
            f"one more send would exceed {content.frequency_cap_per_week} per contact per week",
        )
    c = compliance or CompliancePolicy()
    if c.require_compliance_approved and "compliance_status" in frame:
        fails["compliance"] = (
            (frame["compliance_status"].astype(str) != "approved").to_numpy(),
            "compliance status is not approved",
        )
    if c.require_brand_safe and "brand_safe" in frame:
        fails["brand_safety"] = (
            ~_flags(frame["brand_safe"]),
            "not marked brand safe",
        )
    if "regulated_claim" in frame:
        regulated = _flags(frame["regulated_claim"])
        excluded = frame["audience_id"].isin(c.regulated_claims.excluded_audiences).to_numpy()
        blocked = regulated & (excluded | (not c.regulated_claims.allowed))
        fails["regulated_claim"] = (
            blocked,
            "regulated claim not allowed"
            + ("" if c.regulated_claims.allowed else " at all")
            + (" for this audience" if c.regulated_claims.allowed else ""),
        )
    if c.blocked_topics and "topic" in frame:
        fails["blocked_topic"] = (
            frame["topic"].astype(str).isin(c.blocked_topics).to_numpy(),
            f"topic is blocked ({', '.join(c.blocked_topics)})",
        )
    if c.blocked_terms and ("title" in frame or "body" in frame):
        text = (
            _column(frame, "title", "").fillna("").astype(str)
            + " "
            + _column(frame, "body", "").fillna("").astype(str)
        )
        pattern = "|".join(re.escape(t) for t in c.blocked_terms)
        fails["blocked_term"] = (
            text.str.contains(pattern, case=False, regex=True).to_numpy(bool),
            f"title or body contains a blocked term ({', '.join(c.blocked_terms)})",
        )
    fatigue = np.zeros(len(frame), bool)
    fatigue_reason = []
    f = content.fatigue
    if f.min_days_between_same_asset > 0 and "last_seen_at" in frame:
        seen = pd.to_datetime(frame["last_seen_at"], errors="coerce", utc=True)
        days = (pd.Timestamp(send_day, tz="UTC") - seen.dt.floor("D")).dt.days
        fatigue |= (days < f.min_days_between_same_asset).fillna(False).to_numpy(bool)
        fatigue_reason.append(f"seen within the last {f.min_days_between_same_asset} days")
    if f.max_sends_per_contact is not None:
        per_contact = frame["sends"] / frame["consented_size"].where(frame["consented_size"] > 0)
        fatigue |= (per_contact > f.max_sends_per_contact).fillna(False).to_numpy(bool)
        fatigue_reason.append(f"more than {f.max_sends_per_contact:g} sends per contact")
    fails["fatigue"] = (fatigue, "fatigue: " + " or ".join(fatigue_reason or ["none"]))

    hard = np.zeros(len(frame), bool)
    rule = np.full(len(frame), "", dtype=object)
    reason = np.full(len(frame), "", dtype=object)
    for name in (*_HARD_RULES, "fatigue"):
        if name not in fails:
            continue
        mask, why = fails[name]
        new = mask & (rule == "")
        rule[new], reason[new] = name, why
        if name != "fatigue":
            hard |= mask
    out = rule != ""
    if content.fallback_asset is not None:
        # An audience that fatigue (and nothing harder) left empty gets the fallback asset.
        kept_any = pd.Series(~out).groupby(frame["audience_id"].to_numpy()).transform("any")
        rescue = (
            (rule == "fatigue")
            & (frame["asset_id"] == content.fallback_asset).to_numpy()
            & ~kept_any.to_numpy(bool)
        )
        out &= ~rescue
        frame["fallback"] = rescue
    else:
        frame["fallback"] = False
    excluded = frame.loc[out, ["audience_id", "asset_id", "channel"]].assign(
        rule=rule[out], reason=reason[out]
    )
    return frame.loc[~out].reset_index(drop=True), excluded[EXCLUSION_COLUMNS].reset_index(
        drop=True
    )


def _flags(values: pd.Series) -> np.ndarray:
    """A yes/no column as booleans: real booleans as they are, text 'true'/'1'/'yes', and
    anything missing as no."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(bool)
    return values.map(_truthy).to_numpy(bool)


def _truthy(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "yes"}
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return False
    return bool(v)


# ------------------------------------------------------------------ Thompson probabilities
def _group_starts(group: np.ndarray) -> np.ndarray:
    """First index of each run of equal codes (arms are sorted by group)."""
    if len(group) == 0:
        return np.zeros(0, int)
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])


def thompson_probabilities(
    group: np.ndarray, a: np.ndarray, b: np.ndarray, grid: int = _GRID
) -> np.ndarray:
    """P(arm has the highest rate of its group) for Beta(a, b) posteriors, by quadrature.

    ``group`` holds one code per arm with each group's arms contiguous. The integral
    ``P(i best) = integral of pdf_i(z) * prod_{j != i} cdf_j(z) dz`` is taken on the log-odds
    scale, where the posteriors are smooth and nearly symmetric, over a per-group grid from
    the highest lower tail to the highest upper tail (below it some arm is surely higher).
    Densities are exact (the log-odds of a Beta variable); each CDF is exact at the grid's
    start (one incomplete-beta call per arm) and accumulated by the trapezoid rule from there,
    which keeps a million arms to seconds. Each group's probabilities sum to 1.
    """
    group = np.asarray(group)
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    out = np.ones(n)
    if n == 0:
        return out
    # log-odds mean and sd of each posterior: only used to place the grid
    mu = special.digamma(a) - special.digamma(b)
    sd = np.sqrt(special.polygamma(1, a) + special.polygamma(1, b))
    log_norm = special.betaln(a, b)
    starts = _group_starts(group)
    sizes = np.diff(np.r_[starts, n])
    lo = np.maximum.reduceat(mu - _SPAN * sd, starts)
    hi = np.maximum.reduceat(mu + _SPAN * sd, starts)
    t = np.linspace(0.0, 1.0, grid)
    per_chunk = max(1, _CHUNK // grid)  # arms per chunk, whole groups only (memory bound)
    g0 = 0
    while g0 < len(starts):
        g1 = g0 + 1
        while g1 < len(starts) and starts[g1] + sizes[g1] - starts[g0] <= per_chunk:
            g1 += 1
        s0, s1 = starts[g0], starts[g1 - 1] + sizes[g1 - 1]
        local_starts = starts[g0:g1] - s0
        gid = np.repeat(np.arange(g1 - g0), sizes[g0:g1])
        zg = lo[g0:g1, None] + (hi - lo)[g0:g1, None] * t[None, :]
        dz = (hi - lo)[g0:g1][gid] / (grid - 1)  # even grid: one step per arm
        z, log_p = zg[gid], special.log_expit(zg)[gid]  # log sigmoid once per group
        aa, bb = a[s0:s1, None], b[s0:s1, None]
        # density of the log-odds of a Beta(a, b) variable (log(1 - sigmoid(z)) = log_p - z)
        pdf = np.exp((aa + bb) * log_p - bb * z - log_norm[s0:s1, None])
        cdf = np.empty_like(pdf)
        cdf[:, 0] = special.betainc(a[s0:s1], b[s0:s1], special.expit(z[:, 0]))
        np.cumsum(0.5 * (pdf[:, 1:] + pdf[:, :-1]), axis=1, out=cdf[:, 1:])
        cdf[:, 1:] *= dz[:, None]
        cdf[:, 1:] += cdf[:, :1]
        log_cdf = np.log(np.clip(cdf, 1e-300, 1.0))
        total = np.add.reduceat(log_cdf, local_starts, axis=0)
        integrand = pdf * np.exp(total[gid] - log_cdf)
        out[s0:s1] = (integrand.sum(axis=1) - 0.5 * (integrand[:, 0] + integrand[:, -1])) * dz
        g0 = g1
    sums = np.add.reduceat(out, starts)
    gid_all = np.repeat(np.arange(len(starts)), sizes)
    ok = sums[gid_all] > 0
    out = np.where(ok, out / np.where(ok, sums[gid_all], 1.0), 1.0 / sizes[gid_all])
    out[sizes[gid_all] == 1] = 1.0
    return out


def grouped_bounded_propensities(
    group: np.ndarray, thompson: np.ndarray, floor: float, max_share: float
) -> np.ndarray:
    """:func:`bounded_propensities` for every group at once (arms contiguous by group)."""
    p = np.asarray(thompson, float).copy()
    n = len(p)
    if n == 0:
        return p
    starts = _group_starts(np.asarray(group))
    sizes = np.diff(np.r_[starts, n])
    gid = np.repeat(np.arange(len(starts)), sizes)
    sums = np.add.reduceat(p, starts)
    p = np.where(sums[gid] > 0, p / np.where(sums[gid] > 0, sums[gid], 1.0), 1.0 / sizes[gid])
    # best guess of each group: its first arm with the highest probability
    top = np.maximum.reduceat(p, starts)
    is_top = np.flatnonzero(p == top[gid])
    best = is_top[_firsts(gid[is_top])]
    k = sizes.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fl = np.minimum.reduce([np.full(len(k), floor), 1.0 / k, max_share / np.maximum(k - 1, 1)])
    p = (1 - k[gid] * fl[gid]) * p + fl[gid]
    explore = 1.0 - p[best]
    over = explore > max_share
    if over.any():
        room = max_share - fl * (k - 1)
        excess = explore - fl * (k - 1)
        factor = np.where(excess > 0, room / np.where(excess > 0, excess, 1.0), 0.0)
        is_best = np.zeros(n, bool)
        is_best[best] = True
        shrink = over[gid] & ~is_best
        p[shrink] = fl[gid][shrink] + (p[shrink] - fl[gid][shrink]) * factor[gid][shrink]
        others = np.add.reduceat(np.where(is_best, 0.0, p), starts)
        p[best[over]] = 1.0 - others[over]
    p[sizes[gid] == 1] = 1.0
    return p


def bounded_propensities(thompson: np.ndarray, floor: float, max_share: float) -> np.ndarray:
    """Bound Thompson probabilities by the exploration policy; the result sums to 1.

    First every arm gets at least ``floor`` (mixing with uniform, which keeps the ranking);
    then, if the arms other than the best guess together exceed ``max_share``, probability
    is moved to the best guess. When the floor and the cap cannot both hold, the cap wins
    (it limits risk) and the floor is lowered to ``max_share / (arms - 1)``.
    """
    p = np.asarray(thompson, dtype=float)
    return grouped_bounded_propensities(np.zeros(len(p), int), p, floor, max_share)


def _firsts(sorted_codes: np.ndarray) -> np.ndarray:
    """Positions where a run of equal codes starts (codes sorted): the first of each group."""
    if len(sorted_codes) == 0:
        return np.zeros(0, int)
    return np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])


def _draw(group: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the arm drawn in each group, given one uniform number per group."""
    starts = _group_starts(group)
    sizes = np.diff(np.r_[starts, len(p)])
    gid = np.repeat(np.arange(len(starts)), sizes)
    cum = np.cumsum(p)
    local = cum - (cum[starts] - p[starts])[gid]
    local[starts + sizes - 1] = np.inf  # rounding never leaves a group without a pick
    hit = np.flatnonzero(local >= u[gid])
    return hit[_firsts(gid[hit])]


# ------------------------------------------------------------------ send time
def best_send_hour(
    send_hours: pd.DataFrame, audience_id: str, default_hour: int
) -> tuple[int, str]:
    """The hour with the best smoothed click rate (clicks per open), or the default hour."""
    lifts = hour_lifts(
        send_hours[send_hours["audience_id"] == audience_id] if len(send_hours) else send_hours
    )
    if lifts.empty:
        return default_hour, f"no engagement history: default {default_hour:02d}:00"
    hour = _ranked_hours(lifts, default_hour)[0]
    return hour, _hour_reason(lifts, hour)


def _ranked_hours(lifts: pd.DataFrame, default_hour: int) -> list[int]:
    # ties go to the hour closest to the default (a familiar time beats an arbitrary one)
    order = sorted(
        zip(lifts["hour_of_day"], lifts["rate"], strict=True),
        key=lambda hr: (-round(float(hr[1]), 12), abs(int(hr[0]) - default_hour)),
    )
    return [int(h) for h, _ in order]


def _hour_reason(lifts: pd.DataFrame, hour: int) -> str:
    row = lifts[lifts["hour_of_day"] == hour].iloc[0]
    opens = float(lifts["opens"].sum())
    return (
        f"best smoothed click rate {row['rate']:.1%} at {hour:02d}:00 "
        f"(audience average {row['overall']:.1%} over {opens:,.0f} opens)"
    )


# ------------------------------------------------------------------ the choice
def choose_content(
    candidates: pd.DataFrame,
    send_hours: pd.DataFrame | None,
    policy: ContentPolicy,
    as_of: date,
    seed: int,
    value_per_conversion: dict[str, float] | float | None = None,
    compliance: CompliancePolicy | None = None,
) -> pd.DataFrame:
    """One content choice per audience for the day after ``as_of``, or a hold with a reason.

    ``candidates`` are the graph's (audience, asset, channel) rows with their engagement and
    asset facts; ``send_hours`` is engagement by hour of day per audience;
    ``value_per_conversion`` (EUR, per channel or one number) turns conversions into revenue.
    """
    if candidates is None or candidates.empty:
        reason = "no eligible audience and asset: nothing passed consent, caps and compliance"
        return _frame([_hold(None, "email", reason, [])])
    kept, excluded = apply_content_rules(candidates, policy, compliance, as_of)
    audiences = sorted(set(kept["audience_id"]) | set(excluded["audience_id"]))
    if not audiences:
        return _frame(
            [_hold(None, "email", "every candidate audience is suppressed by policy", [])]
        )
    rules_by_audience = _rules_in_words(excluded)
    kept = kept.sort_values(["audience_id", "asset_id", "channel"], kind="stable").reset_index(
        drop=True
    )
    lifts = hour_lifts(send_hours)
    slots = _scored_slots(kept, lifts, policy, value_per_conversion)
    draw = _thompson_draw(kept, policy, np.random.default_rng(seed))
    arms = _ArmTable.build(kept, slots, draw)
    send_day = as_of + timedelta(days=1)
    reasons = _hour_reasons(lifts)
    rows = {
        row["audience_id"]: row
        for row in (
            _send_row(arms, draw, s, k, pick, send_day, reasons, rules_by_audience)
            for s, k, pick in zip(draw.starts, draw.sizes, draw.picks, strict=True)
        )
    }
    return _frame(_with_holds(audiences, rows, excluded, rules_by_audience))


def _scored_slots(
    kept: pd.DataFrame,
    lifts: pd.DataFrame,
    policy: ContentPolicy,
    value_per_conversion: dict[str, float] | float | None,
) -> pd.DataFrame:
    """Every (arm, hour) slot with its scores, each arm's best slot first: highest expected
    clicks, ties to the hour closest to the default."""
    actions = candidate_actions(kept, lifts, policy.default_send_hour)
    scores = pd.concat(
        [
            actions,
            score_actions(
                kept,
                actions,
                policy.exploration.prior_strength,
                value_per_conversion,
                policy.cost_per_send_eur,
            ),
        ],
        axis=1,
    )
    scores["_tie"] = (scores["hour"] - policy.default_send_hour).abs()
    scores["_rank"] = -scores["expected_clicks"].round(9)
    return scores.sort_values(["arm", "_rank", "_tie"], kind="stable")


@dataclass(frozen=True)
class _Draw:
    """Bounded Thompson sampling over each audience's arms, and the arm drawn for each."""

    group: np.ndarray  # audience number of each arm
    wins: np.ndarray  # P(best click rate in its audience)
    confidence: np.ndarray  # P(click rate >= the audience's typical posterior mean)
    p: np.ndarray  # bounded propensity
    starts: np.ndarray  # first arm of each audience
    sizes: np.ndarray  # arms per audience
    picks: np.ndarray  # the arm drawn per audience


def _thompson_draw(kept: pd.DataFrame, policy: ContentPolicy, rng: np.random.Generator) -> _Draw:
    group = pd.factorize(kept["audience_id"])[0]
    a, b, _, _ = posterior_parameters(kept, policy.exploration.prior_strength)
    wins = thompson_probabilities(group, a, b)
    # confidence that a send is not a poor one: P(its click rate >= the mean of the posterior
    # means of the audience's eligible assets); an unknown asset sits near 0.5, a known-bad
    # one (drawn only through the exploration floor) near 0
    means = a / (a + b)
    typical = np.add.reduceat(means, _group_starts(group)) / np.diff(
        np.r_[_group_starts(group), len(means)]
    )
    confidence = special.betaincc(a, b, typical[group])
    p = grouped_bounded_propensities(
        group, wins, policy.exploration.min_propensity, policy.exploration.max_share
    )
    starts = _group_starts(group)
    picks = _draw(group, p, rng.random(len(starts)))
    sizes = np.diff(np.r_[starts, len(kept)])
    return _Draw(group, wins, confidence, p, starts, sizes, picks)


@dataclass(frozen=True)
class _ArmTable:
    """What every arm scores at its best slot and what it is, as arrays indexed by arm, plus
    every candidate hour of the chosen arms (for the send-time alternatives)."""

    col: dict[str, np.ndarray]
    asset: np.ndarray
    channel: np.ndarray
    audience: np.ndarray
    size: np.ndarray
    readiness: np.ndarray
    regulated: np.ndarray
    path: np.ndarray
    fallback: np.ndarray
    slot_arm: np.ndarray
    slot_cols: dict[str, np.ndarray]
    # plain Python lists (NaN as None) make building ~1M alternative entries cheap
    asset_l: list[str]
    channel_l: list[str]
    p_l: list[float]
    hour_l: list[int]
    by_clicks_l: list[int]
    alt_l: dict[str, list]

    @classmethod
    def build(cls, kept: pd.DataFrame, ordered: pd.DataFrame, draw: _Draw) -> _ArmTable:
        best = ordered.drop_duplicates("arm", keep="first").set_index("arm")
        best = best.reindex(np.arange(len(kept)))
        col = {c: best[c].to_numpy(float) for c in (*_SCORES, "hour")}
        asset = kept["asset_id"].to_numpy(object)
        channel = kept["channel"].to_numpy(object)
        by_clicks = np.lexsort((-col["expected_clicks"], draw.group))  # per audience, best first
        chosen_slots = ordered[ordered["arm"].isin(draw.picks)].sort_values(["arm", "hour"])
        return cls(
            col=col,
            asset=asset,
            channel=channel,
            audience=kept["audience_id"].to_numpy(object),
            size=kept["consented_size"].to_numpy(float),
            readiness=_column(kept, "readiness", None).to_numpy(object),
            regulated=_flags(_column(kept, "regulated_claim", False)),
            path=_column(kept, "path", "").to_numpy(object),
            fallback=kept["fallback"].to_numpy(bool),
            slot_arm=chosen_slots["arm"].to_numpy(),
            slot_cols={c: chosen_slots[c].to_numpy(float) for c in (*_SLOT_SCORES, "hour")},
            asset_l=[str(x) for x in asset],
            channel_l=[str(x) for x in channel],
            p_l=draw.p.tolist(),
            hour_l=col["hour"].astype(int).tolist(),
            by_clicks_l=by_clicks.tolist(),
            alt_l={c: [None if v != v else v for v in col[c].tolist()] for c in _ALT_SCORES},
        )

    def asset_alternatives(self, s: int, k: int, pick: int) -> list[dict]:
        """The audience's other arms at their best slots, most expected clicks first."""
        return [
            {
                "asset_id": self.asset_l[j],
                "channel": self.channel_l[j],
                "propensity": self.p_l[j],
                "send_hour": self.hour_l[j],
                **{c: self.alt_l[c][j] for c in _ALT_SCORES},
            }
            for j in self.by_clicks_l[s : s + k]
            if j != pick
        ]

    def hour_alternatives(self, pick: int, hour: int) -> list[dict]:
        """The chosen arm at its other candidate hours."""
        lo, hi = np.searchsorted(self.slot_arm, [pick, pick + 1])
        cols = self.slot_cols
        return [
            {"hour": int(cols["hour"][m]), **{c: _f(cols[c][m]) for c in _SLOT_SCORES}}
            for m in range(lo, hi)
            if int(cols["hour"][m]) != hour
        ]


def _send_row(
    arms: _ArmTable,
    draw: _Draw,
    s: int,
    k: int,
    pick: int,
    send_day: date,
    reasons: dict[tuple[str, int], str],
    rules_by_audience: dict[str, list[str]],
) -> dict:
    """The send chosen for one audience (its arms are ``s`` to ``s + k``), with why."""
    audience = str(arms.audience[s])
    hour = int(arms.col["hour"][pick])
    if arms.channel[pick] == "email" and (audience, hour) in reasons:
        hour_reason = reasons[(audience, hour)]
    else:
        hour_reason = f"no engagement history: default {hour:02d}:00"
    why = (
        f"Thompson sampling: {draw.wins[pick]:.0%} chance of the best click rate among "
        f"{k} eligible asset{'s' if k > 1 else ''}; chosen with probability {draw.p[pick]:.0%}"
    )
    if arms.fallback[pick]:
        why = f"fallback asset {arms.asset[pick]}: every other asset is resting (fatigue); " + why
    return {
        "audience_id": audience,
        "action": "send",
        "asset_id": str(arms.asset[pick]),
        "channel": str(arms.channel[pick]),
        "scheduled_for": datetime.combine(send_day, time(hour)).isoformat(),
        "send_hour": hour,
        "propensity": float(draw.p[pick]),
        "confidence": float(draw.confidence[pick]),
        **{c: float(arms.col[c][pick]) for c in _SCORES},
        "consented_size": float(arms.size[pick]),
        "readiness": arms.readiness[pick],
        "regulated_claim": bool(arms.regulated[pick]),
        "graph_path": _text(arms.path[pick]),
        "send_hour_reason": hour_reason,
        "reason": why,
        "rules_applied": rules_by_audience.get(audience, []),
        "alternatives": arms.asset_alternatives(s, k, pick),
        "hour_alternatives": arms.hour_alternatives(pick, hour),
    }


def _with_holds(
    audiences: list[str],
    rows: dict[str, dict],
    excluded: pd.DataFrame,
    rules_by_audience: dict[str, list[str]],
) -> list[dict]:
    """Every audience in order: its send, or a hold naming the rules that removed everything."""
    out = []
    for audience in audiences:
        if audience in rows:
            out.append(rows[audience])
            continue
        ex = excluded[excluded["audience_id"] == audience]
        out.append(
            _hold(
                audience,
                str(ex["channel"].iloc[0]) if len(ex) else "email",
                "no candidate passed the rules: " + "; ".join(rules_by_audience[audience]),
                rules_by_audience[audience],
            )
        )
    return out


def _rules_in_words(excluded: pd.DataFrame) -> dict[str, list[str]]:
    """Per audience: '<n> candidates out: <reason> (A001, A002...)' per rule that removed some."""
    if excluded.empty:
        return {}
    keys = ["audience_id", "reason"]
    ordered = excluded.sort_values([*keys, "asset_id"], kind="stable")
    counts = ordered.groupby(keys, sort=True).size()
    distinct = ordered.drop_duplicates([*keys, "asset_id"])
    n_distinct = distinct.groupby(keys, sort=True).size().to_dict()
    shown: dict[tuple[str, str], list[str]] = {}
    head = distinct.groupby(keys, sort=False).head(5)
    for a, r, asset in zip(head["audience_id"], head["reason"], head["asset_id"], strict=True):
        shown.setdefault((a, r), []).append(str(asset))
    out: dict[str, list[str]] = {}
    for (audience, reason), n in counts.items():
        more = ", ..." if n_distinct[(audience, reason)] > 5 else ""
        out.setdefault(str(audience), []).append(
            f"{n} candidate{'s' if n > 1 else ''} out: {reason} "
            f"({', '.join(shown[(audience, reason)])}{more})"
        )
    return out


def _hour_reasons(lifts: pd.DataFrame) -> dict[tuple[str, int], str]:
    """Why each (audience, hour) with history would be chosen, in the words of
    :func:`best_send_hour`."""
    if lifts.empty:
        return {}
    opens = lifts.groupby("audience_id")["opens"].transform("sum").to_numpy(float)
    return {
        (str(a), int(h)): (
            f"best smoothed click rate {r:.1%} at {int(h):02d}:00 "
            f"(audience average {o:.1%} over {n:,.0f} opens)"
        )
        for a, h, r, o, n in zip(
            lifts["audience_id"],
            lifts["hour_of_day"],
            lifts["rate"],
            lifts["overall"],
            opens,
            strict=True,
        )
    }


def _f(v: object) -> float | None:
    f = float(v)
    return None if f != f else f  # NaN is not JSON


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return " -> ".join(str(v) for v in value)
    return str(value)


def _hold(audience: str | None, channel: str, reason: str, rules: list[str]) -> dict:
    zero = {
        c: 0.0
        for c in CHOICE_COLUMNS
        if c.startswith(("expected_", "ctr_", "conversions_", "revenue_", "profit_"))
    }
    return {
        **zero,
        "audience_id": audience,
        "action": "hold",
        "asset_id": None,
        "channel": channel,
        "scheduled_for": None,
        "send_hour": None,
        "propensity": 1.0,
        "confidence": 0.0,
        "cost": 0.0,
        "consented_size": 0.0,
        "readiness": None,
        "regulated_claim": False,
        "graph_path": "",
        "send_hour_reason": "",
        "reason": reason,
        "rules_applied": rules,
        "alternatives": [],
        "hour_alternatives": [],
    }
