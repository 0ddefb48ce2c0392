"""What a test taught the model: ROAS per channel before and after its calibration.

``before`` and ``after`` are :func:`forecasting.mmm.channel_summary` tables (``channel``,
``roas``, ``roas_lo``, ``roas_hi``) of the same data fitted without and with the accepted
read-outs; ``truth`` (a simulated world's true ROAS) is optional.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["SHIFT_COLUMNS", "posterior_shift", "posterior_shift_markdown"]

SHIFT_COLUMNS = [
    "channel",
    "tested",
    "roas_before",
    "roas_before_lo",
    "roas_before_hi",
    "roas_after",
    "roas_after_lo",
    "roas_after_hi",
    "width_ratio",
    "true_roas",
]


def posterior_shift(
    before: pd.DataFrame,
    after: pd.DataFrame,
    tested: list[str] | tuple[str, ...] = (),
    truth: dict[str, float] | None = None,
) -> pd.DataFrame:
    """One row per channel: ROAS (mean and interval) before and after calibration, the
    interval's width after over before (below 1: the test narrowed it), and the truth."""
    b = before.set_index("channel")
    a = after.set_index("channel")
    rows = []
    for ch in a.index:
        width_before = float(b.at[ch, "roas_hi"] - b.at[ch, "roas_lo"])
        width_after = float(a.at[ch, "roas_hi"] - a.at[ch, "roas_lo"])
        rows.append(
            {
                "channel": ch,
                "tested": ch in set(tested),
                "roas_before": float(b.at[ch, "roas"]),
                "roas_before_lo": float(b.at[ch, "roas_lo"]),
                "roas_before_hi": float(b.at[ch, "roas_hi"]),
                "roas_after": float(a.at[ch, "roas"]),
                "roas_after_lo": float(a.at[ch, "roas_lo"]),
                "roas_after_hi": float(a.at[ch, "roas_hi"]),
                "width_ratio": width_after / width_before if width_before > 0 else math.nan,
                "true_roas": float((truth or {}).get(ch, math.nan)),
            }
        )
    return pd.DataFrame(rows, columns=SHIFT_COLUMNS)


def posterior_shift_markdown(shift: pd.DataFrame) -> str:
    """The shift as a Markdown table (the decision asset's report, the benchmark)."""
    truth = shift["true_roas"].notna().any()
    head = "| channel | tested | ROAS before (80 %) | ROAS after (80 %) | interval width |"
    rule = "|---|---|---|---|---:|"
    if truth:
        head, rule = head + " true ROAS |", rule + "---:|"
    lines = [head, rule]
    for r in shift.itertuples():
        line = (
            f"| {r.channel} | {'yes' if r.tested else ''} | {r.roas_before:.2f} "
            f"({r.roas_before_lo:.2f} to {r.roas_before_hi:.2f}) | {r.roas_after:.2f} "
            f"({r.roas_after_lo:.2f} to {r.roas_after_hi:.2f}) | x{r.width_ratio:.2f} |"
        )
        lines.append(line + (f" {r.true_roas:.2f} |" if truth else ""))
    return "\n".join(lines)
