"""The world's ground truth as files a media mix model can be scored against (the product
never reads them; the format is in docs/contracts.md, "Simulator ground truth"):

- ``channel_contributions.csv``: per day, each media channel's spend and the conversions and
  revenue it truly caused (realised and expected), and one ``base`` row for the demand no
  channel paid for; the rows of a day add up to the day's total KPI in the exports;
- ``response.json``: the true response of each media channel (adstock decay, Hill
  half-saturation and shape, maximum response, value per conversion), its response and cost
  shocks, its platform's over-claim factor, and the share of conversions search captures.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd

from marketing_ops.simulator.world import BASELINE_CHANNELS, World

__all__ = [
    "CONTRIBUTION_COLUMNS",
    "MEDIA_CHANNELS",
    "channel_contributions",
    "response_truth",
    "write_truth",
]

MEDIA_CHANNELS = ("paid_search", "display", "paid_social", "email")
CONTRIBUTION_COLUMNS = [
    "date",
    "channel",
    "spend",
    "conversions",
    "revenue",
    "expected_conversions",
    "expected_revenue",
]
RESPONSE_FORMULA = (
    "adstock[t] = spend[t] / cost_multiplier[t] + decay * adstock[t-1]; expected_conversions[t] "
    "= seasonal_index[t] * max_response * adstock^shape / (adstock^shape + half_saturation^shape)"
    " * shock_factor[t]; expected_revenue = expected_conversions * value_per_conversion"
)


def channel_contributions(world: World, daily: pd.DataFrame, base_value: float) -> pd.DataFrame:
    """The simulator's daily truth as contributions: media channels as they are, the unpaid
    channels summed into ``base``."""
    value = {c: world.curves[c].value_per_conversion for c in MEDIA_CHANNELS}
    value.update({c: base_value for c in BASELINE_CHANNELS})
    frame = daily.assign(
        channel=daily["channel"].where(daily["channel"].isin(MEDIA_CHANNELS), "base"),
        expected_revenue=daily["expected_conversions"] * daily["channel"].map(value),
    )
    out = frame.groupby(["date", "channel"], as_index=False)[CONTRIBUTION_COLUMNS[2:]].sum()
    return out[CONTRIBUTION_COLUMNS].sort_values(["date", "channel"], ignore_index=True)


def _day(world: World, index: int | None) -> str | None:
    return None if index is None else (world.config.start + timedelta(days=index)).isoformat()


def response_truth(world: World, default_over_claim: float) -> dict:
    """The true response parameters per media channel, with shocks and over-claiming."""
    cfg = world.config
    hostility = cfg.hostility
    shock = hostility.response_shock if hostility else None
    over_claim = hostility.over_claim if hostility else {}
    channels = {}
    for name in MEDIA_CHANNELS:
        curve = world.curves[name]
        shocked = shock is not None and shock.channel == name
        cost = cfg.shock if cfg.shock is not None and cfg.shock.channel == name else None
        channels[name] = {
            "decay": curve.decay,
            "half_saturation": curve.half_saturation,
            "shape": curve.shape,
            "max_response": curve.max_response,
            "value_per_conversion": curve.value_per_conversion,
            "shock_date": _day(world, shock.day) if shocked else None,
            "shock_factor": shock.factor if shocked else 1.0,
            "cost_shock_date": _day(world, cost.day) if cost else None,
            "cost_multiplier": cost.cost_multiplier if cost else 1.0,
            "platform_over_claim": (
                None if name == "email" else over_claim.get(name, default_over_claim)
            ),
        }
    return {
        "seed": cfg.seed,
        "start": cfg.start.isoformat(),
        "search_capture": hostility.search_capture if hostility else 0.0,
        "formula": RESPONSE_FORMULA,
        "channels": channels,
    }


def write_truth(
    folder: Path, world: World, daily: pd.DataFrame, base_value: float, over_claim: float
) -> None:
    channel_contributions(world, daily, base_value).to_csv(
        folder / "channel_contributions.csv", index=False
    )
    (folder / "response.json").write_text(json.dumps(response_truth(world, over_claim), indent=1))
