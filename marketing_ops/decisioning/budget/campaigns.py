"""Budget moves between campaigns: each channel's planned amount split over its campaigns.

Response curves are fitted per channel, where the data are rich enough; campaigns get theirs
by decomposing the channel curve with what each campaign measurably contributes. For
campaign ``i`` with spend share ``s_i`` of its channel and (shrunk) conversion share ``c_i``::

    conversions_i(a_i) = c_i * M * hill(a_i / s_i; K, shape)
                       = ResponseCurve(half_saturation = K * s_i, max_response = M * c_i)

At the historical split (``a_i = s_i * A``) the campaigns add up exactly to the channel's curve,
so the channel plan is unchanged; moving money towards campaigns that convert more than their
spend share earns more, with diminishing returns per campaign. Conversion shares are pooled
towards spend shares (``campaign_pooling_conversions`` pseudo-conversions, default
``SHRINK_CONVERSIONS``): a campaign with thin data gets its channel's curve (from the media
mix model when that is the response model) at its share of the spend, and only a campaign
with the conversions to show it moves away from it. The pooling also sets each campaign's
uncertainty: on every posterior (or bootstrap) draw of the channel curve the campaigns'
conversion shares are drawn from their Dirichlet posterior (measured conversions + the
pseudo-conversions at the spend shares), so a campaign with little data has wide intervals
and a high P(marginal ROI < 1) wherever its own evidence cannot carry a move. A campaign with
no spend in the window has no evidence and is left out (it keeps zero).

The split is a second, smaller optimisation per channel (:func:`plan_budget` on the campaign
curves, the channel's amount as a fixed total), with each campaign's move bounded by
``campaign_max_shift_pct`` around *keeping the campaign split* at the new channel amount and
by the per-campaign daily limits of the budget policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketing_ops.decisioning.budget.optimiser import (
    Alternative,
    BudgetPlan,
    PlanLine,
    incremental_period_revenue,
    plan_budget,
)
from marketing_ops.decisioning.policy import BudgetPolicy, ChannelBounds
from marketing_ops.forecasting.curves import ResponseCurve

__all__ = [
    "SHRINK_CONVERSIONS",
    "CampaignShare",
    "campaign_curves",
    "campaign_shares",
    "sampled_shares",
    "split_by_campaign",
]

SHRINK_CONVERSIONS = 20.0


@dataclass(frozen=True)
class CampaignShare:
    """What one campaign spent and measurably earned within its channel."""

    campaign_id: str
    channel: str
    last_amount: float  # spend over the last planning period
    spend_share: float  # of the channel's spend over the history window
    conversion_share: float  # of the channel's measured conversions, shrunk to spend share
    value_per_conversion: float | None  # measured, None when it had no conversion
    conversions: float = 0.0  # measured in the window
    pooling: float = SHRINK_CONVERSIONS  # pseudo-conversions at the spend share


def campaign_shares(
    ad_spend: pd.DataFrame,
    conversions: pd.DataFrame,
    as_of: date,
    history_days: int,
    period_days: int,
    pooling: float = SHRINK_CONVERSIONS,
) -> dict[str, list[CampaignShare]]:
    """Per channel, its campaigns' shares from ``fct_ad_spend_daily`` and ``fct_conversions``
    (conversion shares pooled towards spend shares by ``pooling`` pseudo-conversions)."""
    if ad_spend is None or ad_spend.empty:
        return {}
    spend = ad_spend.assign(date_day=pd.to_datetime(ad_spend["date_day"]).dt.date)
    window = spend[
        (spend["date_day"] > as_of - timedelta(days=history_days)) & (spend["date_day"] <= as_of)
    ]
    last = spend[
        (spend["date_day"] > as_of - timedelta(days=period_days)) & (spend["date_day"] <= as_of)
    ]
    by_campaign = window.groupby(["channel", "campaign_id"])["spend"].sum()
    last_by_campaign = last.groupby(["channel", "campaign_id"])["spend"].sum()
    conv = conversions if conversions is not None else pd.DataFrame()
    if len(conv):
        conv = conv.assign(date_day=pd.to_datetime(conv["date_day"]).dt.date)
        conv = conv[
            (conv["date_day"] > as_of - timedelta(days=history_days)) & (conv["date_day"] <= as_of)
        ]
        measured = conv.groupby(["channel", "campaign_id"]).agg(
            n=("revenue", "size"), revenue=("revenue", "sum")
        )
    else:
        measured = pd.DataFrame(columns=["n", "revenue"])
    out: dict[str, list[CampaignShare]] = {}
    for channel, g in by_campaign.groupby(level=0):
        g = g[g > 0]
        if g.empty:
            continue
        total = float(g.sum())
        rows = [(str(cid), float(v)) for (_, cid), v in g.items()]
        counts = {
            cid: float(measured.loc[(channel, cid), "n"])
            if (channel, cid) in measured.index
            else 0.0
            for cid, _ in rows
        }
        revenue = {
            cid: float(measured.loc[(channel, cid), "revenue"])
            if (channel, cid) in measured.index
            else 0.0
            for cid, _ in rows
        }
        n_total = sum(counts.values())
        shares = []
        for cid, v in rows:
            s = v / total
            c = (counts[cid] + pooling * s) / (n_total + pooling) if n_total + pooling else s
            shares.append(
                CampaignShare(
                    campaign_id=cid,
                    channel=str(channel),
                    last_amount=float(last_by_campaign.get((channel, cid), 0.0)),
                    spend_share=s,
                    conversion_share=c,
                    value_per_conversion=revenue[cid] / counts[cid] if counts[cid] > 0 else None,
                    conversions=counts[cid],
                    pooling=pooling,
                )
            )
        out[str(channel)] = sorted(shares, key=lambda x: x.campaign_id)
    return out


def campaign_curves(curve: ResponseCurve, shares: list[CampaignShare]) -> dict[str, ResponseCurve]:
    """Decompose a channel curve into its campaigns' curves (module docstring).

    Each campaign keeps the channel's value per conversion: per-campaign order values are
    too noisy over a few weeks to steer money by (the measured one is reported, not used).
    """
    return {
        sh.campaign_id: ResponseCurve(
            sh.campaign_id,
            curve.decay,
            curve.half_saturation * sh.spend_share,
            curve.shape,
            curve.max_response * sh.conversion_share,
            curve.value_per_conversion,
        )
        for sh in shares
    }


def _channel_total_conversions(shares: list[CampaignShare]) -> float:
    """Measured conversions of the channel in the window (from any campaign that had some)."""
    return float(sum(sh.conversions for sh in shares))


def sampled_shares(shares: list[CampaignShare], n_draws: int) -> np.ndarray:
    """``(n_draws, campaigns)`` conversion shares from their Dirichlet posterior: measured
    conversions plus the pooling pseudo-conversions at the spend shares (seeded: a replay
    of the decision draws the same)."""
    pooling = shares[0].pooling if shares else SHRINK_CONVERSIONS
    alpha = np.array([sh.conversions + pooling * sh.spend_share for sh in shares], dtype=float)
    alpha = np.maximum(alpha, 1e-3)
    rng = np.random.default_rng([len(shares), int(_channel_total_conversions(shares))])
    return rng.dirichlet(alpha, size=n_draws)


def _campaign_samples(
    draws: list[ResponseCurve], camp: list[CampaignShare]
) -> dict[str, list[ResponseCurve]]:
    """Per campaign, one curve per channel draw with that draw's sampled conversion shares."""
    if not draws:
        return {}
    shares = sampled_shares(camp, len(draws))
    out: dict[str, list[ResponseCurve]] = {sh.campaign_id: [] for sh in camp}
    for j, curve in enumerate(draws):
        drawn = [replace(sh, conversion_share=float(shares[j, i])) for i, sh in enumerate(camp)]
        for sh, c in campaign_curves(curve, drawn).items():
            out[sh].append(c)
    return out


def split_by_campaign(
    plan: BudgetPlan,
    curves: dict[str, ResponseCurve],
    shares: dict[str, list[CampaignShare]],
    seasonal_index: dict[str, np.ndarray],
    initial_adstock: dict[str, float],
    policy: BudgetPolicy,
    samples: dict[str, list[ResponseCurve]] | None = None,
    expectation: bool = False,
) -> BudgetPlan:
    """The channel plan with each channel line replaced by one line per campaign
    (``expectation``: valued by the average over the samples, as :func:`plan_budget`).

    A channel without campaign data (or locked) keeps its channel line or its campaigns'
    last amounts. The plan's totals are re-summed from the campaign lines.
    """
    samples = samples or {}
    lines: list[PlanLine] = []
    notes = list(plan.notes)
    binding = list(plan.binding_constraints)
    for line in plan.lines:
        camp = shares.get(line.channel, [])
        if not camp or line.campaign_id is not None:
            lines.append(line)
            continue
        c_curves = campaign_curves(curves[line.channel], camp)
        last_total = sum(sh.last_amount for sh in camp)
        base = {
            sh.campaign_id: line.amount
            * (sh.last_amount / last_total if last_total > 0 else sh.spend_share)
            for sh in camp
        }
        c_index = seasonal_index.get(line.channel)
        c_carry = initial_adstock.get(line.channel, 0.0)
        if line.channel in policy.locked_channels or line.amount <= 0 or len(camp) == 1:
            sub = None
        else:
            sub_policy = BudgetPolicy(
                objective="max_revenue",
                period_days=policy.period_days,
                carryover_days=policy.carryover_days,
                total_budget=line.amount,
                max_shift_pct=policy.campaign_max_shift_pct,
                channels={
                    sh.campaign_id: policy.campaigns.get(sh.campaign_id, ChannelBounds())
                    for sh in camp
                },
            )
            sub_samples = _campaign_samples(samples.get(line.channel, []), camp)
            sub = plan_budget(
                c_curves,
                base,
                {k: c_index for k in c_curves},
                {sh.campaign_id: c_carry * sh.spend_share for sh in camp},
                sub_policy,
                sub_samples,
                baseline_label=f"keeping the {line.channel} campaign split",
                expectation=expectation,
            )
            notes.extend(f"{line.channel}: {n}" for n in sub.notes)
            binding.extend(b for b in sub.binding_constraints if not b.startswith("total"))
        for sh in camp:
            if sub is None:
                conv, rev = incremental_period_revenue(
                    c_curves[sh.campaign_id],
                    base[sh.campaign_id],
                    c_index,
                    c_carry * sh.spend_share,
                    policy.period_days,
                    policy.tail_days,
                )
                lines.append(_fixed_line(line, sh, base[sh.campaign_id], conv, rev))
                continue
            sl = sub.line(sh.campaign_id)
            lines.append(
                replace(
                    sl,
                    key=sh.campaign_id,
                    channel=line.channel,
                    campaign_id=sh.campaign_id,
                    last_amount=sh.last_amount,
                    binding=tuple(line.binding) + tuple(sl.binding),
                    alternatives=tuple(
                        replace(a, description=f"{a.description} within {line.channel}")
                        for a in sl.alternatives
                    )
                    + tuple(
                        Alternative(
                            description=f"{line.channel} as a whole: {a.description}",
                            amounts=a.amounts,
                            expected_revenue=a.expected_revenue,
                            difference=a.difference,
                            feasible=a.feasible,
                        )
                        for a in line.alternatives
                    ),
                )
            )
    revenue = float(sum(x.expected_revenue for x in lines))
    return replace(
        plan,
        lines=tuple(lines),
        expected_revenue=revenue,
        expected_conversions=float(sum(x.expected_conversions for x in lines)),
        binding_constraints=tuple(dict.fromkeys(binding)),
        alternatives=tuple(
            replace(a, difference=revenue - a.expected_revenue) for a in plan.alternatives
        ),
        notes=tuple(dict.fromkeys(notes)),
        extra={**plan.extra, "plan_level": "campaign"},
    )


def _fixed_line(
    channel_line: PlanLine, sh: CampaignShare, amount: float, conv: float, rev: float
) -> PlanLine:
    """A campaign line that keeps its split (locked channel, nothing to move, one campaign);
    its intervals are the channel's, scaled to the campaign's expected figures."""
    share = amount / channel_line.amount if channel_line.amount > 0 else 0.0
    r = rev / channel_line.expected_revenue if channel_line.expected_revenue > 0 else 0.0
    c = conv / channel_line.expected_conversions if channel_line.expected_conversions > 0 else 0.0
    return replace(
        channel_line,
        key=sh.campaign_id,
        campaign_id=sh.campaign_id,
        amount=amount,
        last_amount=sh.last_amount,
        daily=tuple(d * share for d in channel_line.daily),
        expected_conversions=conv,
        expected_revenue=rev,
        revenue_lower=channel_line.revenue_lower * r,
        revenue_upper=channel_line.revenue_upper * r,
        conversions_lower=channel_line.conversions_lower * c,
        conversions_upper=channel_line.conversions_upper * c,
        binding=(
            *channel_line.binding,
            f"{sh.campaign_id}: keeps its share of {channel_line.channel}",
        ),
    )
