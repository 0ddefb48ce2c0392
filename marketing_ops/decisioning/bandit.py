"""Content choice per audience: Thompson sampling over the graph's eligible assets.

Each (audience, asset) arm has a Beta posterior on its click rate per send, with an
empirical-Bayes prior (the click rate pooled over all candidates, worth ``prior_strength``
sends), so a new asset starts at the average rather than at 50%. The probability that each
arm is the best is estimated by Monte Carlo over posterior draws; those Thompson
probabilities are then bounded by the content policy (every arm keeps at least the
propensity floor, and the chance of sending anything but the current best guess is capped
at ``max_share``), and the arm is drawn from the bounded probabilities. The logged
propensity is therefore the true probability of the choice, which is what off-policy
evaluation of later policies needs.

Consent, frequency caps and compliance are applied upstream by the candidate query; this
module guards again (suppressed audiences, allowed channels, nobody consented) because a
send to the wrong people cannot be undone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_dist

from marketing_ops.decisioning.policy import ContentPolicy

__all__ = ["CHOICE_COLUMNS", "bounded_propensities", "best_send_hour", "choose_content"]

CHOICE_COLUMNS = [
    "audience_id",
    "action",  # "send" or "hold"
    "asset_id",
    "channel",
    "scheduled_for",
    "send_hour",
    "propensity",
    "expected_ctr",
    "ctr_lower",
    "ctr_upper",
    "expected_clicks",
    "expected_conversions",
    "conversions_lower",
    "conversions_upper",
    "consented_size",
    "readiness",
    "graph_path",
    "send_hour_reason",
    "reason",
    "alternatives",  # list of {asset_id, propensity, expected_ctr, expected_conversions}
]
_DRAWS = 4000
_HOUR_SMOOTHING = 50.0  # pseudo-opens pulling each hour's click rate to the audience's average,
# so an hour with a handful of lucky opens does not beat one with hundreds of good ones


def bounded_propensities(thompson: np.ndarray, floor: float, max_share: float) -> np.ndarray:
    """Bound Thompson probabilities by the exploration policy; the result sums to 1.

    First every arm gets at least ``floor`` (mixing with uniform, which keeps the ranking);
    then, if the arms other than the best guess together exceed ``max_share``, probability
    is moved to the best guess. When the floor and the cap cannot both hold, the cap wins
    (it limits risk) and the floor is lowered to ``max_share / (arms - 1)``.
    """
    p = np.asarray(thompson, dtype=float)
    k = len(p)
    if k == 1:
        return np.ones(1)
    p = p / p.sum()
    best = int(np.argmax(p))
    floor = min(floor, 1.0 / k, max_share / (k - 1))
    p = (1 - k * floor) * p + floor
    explore = 1.0 - p[best]
    if explore > max_share:
        others = np.arange(k) != best
        # shrink the others towards the floor so their total is max_share
        excess = p[others] - floor
        room = max_share - floor * (k - 1)
        p[others] = floor + excess * (room / excess.sum() if excess.sum() > 0 else 0.0)
        p[best] = 1.0 - p[others].sum()
    return p


def best_send_hour(
    send_hours: pd.DataFrame, audience_id: str, default_hour: int
) -> tuple[int, str]:
    """The hour with the best smoothed click rate (clicks per open), or the default hour."""
    rows = send_hours[send_hours["audience_id"] == audience_id] if len(send_hours) else send_hours
    opens = float(rows["opens"].sum()) if len(rows) else 0.0
    if opens <= 0:
        return default_hour, f"no engagement history: default {default_hour:02d}:00"
    overall = float(rows["clicks"].sum()) / opens
    by_hour = rows.groupby("hour_of_day")[["opens", "clicks"]].sum()
    rate = (by_hour["clicks"] + _HOUR_SMOOTHING * overall) / (by_hour["opens"] + _HOUR_SMOOTHING)
    # ties go to the hour closest to the default (a familiar time beats an arbitrary one)
    order = sorted(
        rate.index, key=lambda h: (-round(float(rate[h]), 12), abs(int(h) - default_hour))
    )
    hour = int(order[0])
    return hour, (
        f"best smoothed click rate {rate[hour]:.1%} at {hour:02d}:00 "
        f"(audience average {overall:.1%} over {opens:,.0f} opens)"
    )


def choose_content(
    candidates: pd.DataFrame,
    send_hours: pd.DataFrame,
    policy: ContentPolicy,
    as_of: date,
    seed: int,
    value_per_conversion: float | None = None,
) -> pd.DataFrame:
    """One content choice per audience for the day after ``as_of``, or a hold with a reason.

    ``candidates`` are the graph's eligible (audience, asset, channel) rows with their
    engagement; ``send_hours`` is engagement by hour of day per audience.
    """
    rng = np.random.default_rng(seed)
    send_day = as_of + timedelta(days=1)
    if candidates is None or candidates.empty:
        return pd.DataFrame(
            [
                _hold(
                    None,
                    "email",
                    "no eligible audience and asset: nothing passed consent, caps and compliance",
                )
            ],
            columns=CHOICE_COLUMNS,
        )
    frame = candidates.copy()
    for col in ("sends", "opens", "clicks", "conversions", "consented_size"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0.0)
    # Guard: suppressed audiences disappear entirely (not even a hold names them).
    frame = frame[~frame["audience_id"].isin(policy.suppressed_audiences)]
    frame = frame[frame["consented_size"] > 0]
    strength = policy.exploration.prior_strength
    sends = frame["sends"].sum()
    pooled_ctr = float(frame["clicks"].sum() / sends) if sends > 0 else 0.02
    pooled_cvr = float(frame["conversions"].sum() / sends) if sends > 0 else 0.002
    pooled_ctr, pooled_cvr = min(max(pooled_ctr, 1e-4), 0.99), min(max(pooled_cvr, 1e-5), 0.99)
    hours = (
        send_hours
        if send_hours is not None
        else pd.DataFrame(columns=["audience_id", "hour_of_day", "opens", "clicks"])
    )

    rows = []
    for audience, group in frame.groupby("audience_id", sort=True):
        allowed = group[group["channel"].isin(policy.allowed_channels)]
        allowed = allowed.drop_duplicates(subset=["asset_id", "channel"]).sort_values(
            ["asset_id", "channel"]
        )
        if allowed.empty:
            channels = ", ".join(sorted(group["channel"].astype(str).unique()))
            rows.append(
                _hold(
                    audience,
                    str(group["channel"].iloc[0]),
                    f"no asset on an allowed channel (candidates only on: {channels})",
                )
            )
            continue
        a = pooled_ctr * strength + allowed["clicks"].to_numpy()
        b = (1 - pooled_ctr) * strength + np.maximum(
            allowed["sends"] - allowed["clicks"], 0
        ).to_numpy()
        draws = rng.beta(a[:, None], b[:, None], size=(len(allowed), _DRAWS))
        wins = np.bincount(draws.argmax(axis=0), minlength=len(allowed)) / _DRAWS
        p = bounded_propensities(
            wins, policy.exploration.min_propensity, policy.exploration.max_share
        )
        pick = int(rng.choice(len(allowed), p=p))
        ctr_mean = a / (a + b)
        ca = pooled_cvr * strength + allowed["conversions"].to_numpy()
        cb = (1 - pooled_cvr) * strength + np.maximum(
            allowed["sends"] - allowed["conversions"], 0
        ).to_numpy()
        cvr_mean = ca / (ca + cb)
        size = float(allowed["consented_size"].iloc[pick])
        chosen = allowed.iloc[pick]
        hour, hour_reason = best_send_hour(hours, audience, policy.default_send_hour)
        alternatives = [
            {
                "asset_id": str(allowed["asset_id"].iloc[j]),
                "channel": str(allowed["channel"].iloc[j]),
                "propensity": float(p[j]),
                "expected_ctr": float(ctr_mean[j]),
                "expected_conversions": float(size * cvr_mean[j]),
                "expected_revenue": None
                if value_per_conversion is None
                else float(size * cvr_mean[j] * value_per_conversion),
            }
            for j in np.argsort(-ctr_mean, kind="stable")
            if j != pick
        ]
        rows.append(
            {
                "audience_id": audience,
                "action": "send",
                "asset_id": str(chosen["asset_id"]),
                "channel": str(chosen["channel"]),
                "scheduled_for": datetime.combine(send_day, time(hour)).isoformat(),
                "send_hour": hour,
                "propensity": float(p[pick]),
                "expected_ctr": float(ctr_mean[pick]),
                "ctr_lower": float(beta_dist.ppf(0.05, a[pick], b[pick])),
                "ctr_upper": float(beta_dist.ppf(0.95, a[pick], b[pick])),
                "expected_clicks": float(size * ctr_mean[pick]),
                "expected_conversions": float(size * cvr_mean[pick]),
                "conversions_lower": float(size * beta_dist.ppf(0.05, ca[pick], cb[pick])),
                "conversions_upper": float(size * beta_dist.ppf(0.95, ca[pick], cb[pick])),
                "consented_size": size,
                "readiness": chosen.get("readiness"),
                "graph_path": _text(chosen.get("path")),
                "send_hour_reason": hour_reason,
                "reason": (
                    f"Thompson sampling: {wins[pick]:.0%} chance of the best click rate among "
                    f"{len(allowed)} eligible assets; chosen with probability {p[pick]:.0%}"
                ),
                "alternatives": alternatives,
            }
        )
    if not rows:
        rows.append(
            _hold(
                None, "email", "every candidate audience is suppressed or has no consented contacts"
            )
        )
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return " -> ".join(str(v) for v in value)
    return str(value)


def _hold(audience: str | None, channel: str, reason: str) -> dict:
    return {
        "audience_id": audience,
        "action": "hold",
        "asset_id": None,
        "channel": channel,
        "scheduled_for": None,
        "send_hour": None,
        "propensity": 1.0,
        "expected_ctr": 0.0,
        "ctr_lower": 0.0,
        "ctr_upper": 0.0,
        "expected_clicks": 0.0,
        "expected_conversions": 0.0,
        "conversions_lower": 0.0,
        "conversions_upper": 0.0,
        "consented_size": 0.0,
        "readiness": None,
        "graph_path": "",
        "send_hour_reason": "",
        "reason": reason,
        "alternatives": [],
    }
