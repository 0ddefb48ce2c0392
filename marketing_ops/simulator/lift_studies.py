"""Lift tests of a simulated market as a team would have run them: the results the media mix
model calibrates on (``settings/experiments.csv``, docs/contracts.md).

Each test changes one paid channel's spend over its own days; its lift is the simulator's TRUE
lift of that change (:meth:`GroundTruth.spend_lift`: the conversions it moves, carry-over
included) plus normal noise with a standard error of ``rel_se`` times it, so a test is as
wrong as a real one and its standard error says how wrong. ``bench_decisions`` scores plans
calibrated on them, and ``marketing-ops demo`` writes them as the market's past studies.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketing_ops.simulator.market import GroundTruth
from marketing_ops.simulator.world import PAID_CHANNELS

__all__ = ["AD_CHANNELS", "PAST_STUDIES", "lift_studies"]

# the world's paid channels whose spend a budget plans (email's cost follows its sends)
AD_CHANNELS = tuple(c for c in PAID_CHANNELS if c != "email")

# The market's past studies as ``marketing-ops demo`` writes them (``settings/experiments.csv``)
# and ``bench_mmm.py --market --lift-tests audience`` fits them: per channel a conversion-lift
# study of its whole effect (``holdout_share`` 1), its tail read 4 weeks on as a row of its own
# with the in-test row's noise.
PAST_STUDIES = {"share": 1.0, "readout": 28, "tail_rows": True, "tail_se": "test"}


def lift_studies(
    truth: GroundTruth,
    as_of: date,
    seed: int,
    share: float = 0.3,
    days: int = 28,
    rel_se: float = 0.15,
    design: str = "holdout",
    readout: int = 0,
    tail_rows: bool = False,
    tail_se: str = "own",
    channels: tuple[str, ...] = AD_CHANNELS,
    prefix: str = "study",
) -> list:
    """One test per channel (``design`` ``both``: a holdout and a pulse per channel), ``days``
    long, one after the other, the last read-out ending two weeks before ``as_of``.

    A holdout reads what ``share`` of the spend sells: its true lift is the response to the
    observed spend less the response to ``1 - share`` of it, the data the high arm
    (``holdout_share``, docs/contracts.md); at 1 it is a platform's conversion-lift study, the
    channel's whole effect. A pulse adds ``share`` more spend (``spend_delta``). Each is read
    out ``readout`` days past its end
    (``readout_end``: the change's carry-over after the test counts); with ``tail_rows`` as
    two rows instead, its own days and its tail alone (``lift_start`` the day after its end),
    which pins the channel's decay. ``tail_se``: the tail row's standard error is ``rel_se``
    times its own true lift (``own``) or the in-test row's (``test``: the same arms' noise
    over as many days). The noise is seeded by ``seed`` and ``as_of``."""
    from marketing_ops.forecasting.mmm.calibration import Experiment  # jax: only when used

    rng = np.random.default_rng([seed, as_of.toordinal()])
    kinds = ["holdout", "pulse"] if design == "both" else [design]
    plan = [(channel, kind) for kind in kinds for channel in channels]
    out = []
    for i, (channel, kind) in enumerate(plan):
        end = as_of - timedelta(days=14 + readout + days * (len(plan) - 1 - i))
        start = end - timedelta(days=days - 1)
        until = end + timedelta(days=readout) if readout else None
        high, low = (1.0, 1.0 - share) if kind == "holdout" else (1.0 + share, 1.0)
        # (lift_start, readout_end, name suffix) of each row the test reports
        rows = [(None, until, "")]
        if tail_rows and readout:
            rows = [(None, None, ""), (end + timedelta(days=1), until, "-tail")]
        spend = truth.daily
        spend = spend[
            (spend["channel"] == channel)
            & spend["date"].between(start.isoformat(), end.isoformat())
        ]["spend"].sum()
        se = 0.0
        for first, last, suffix in rows:
            true_lift = truth.spend_lift(channel, start, end, high, low, last, first)
            # the tail row after the in-test row: its own share, or the in-test row's noise
            se = se if suffix and tail_se == "test" else rel_se * abs(true_lift)
            out.append(
                Experiment(
                    channel=channel,
                    start=pd.Timestamp(start),
                    end=pd.Timestamp(end),
                    kind="holdout" if kind == "holdout" else "lift",  # a pulse: spend_delta > 0
                    lift=float(true_lift + rng.normal(0.0, se)),
                    standard_error=float(se),
                    spend_delta=float(share * spend) if kind == "pulse" else 0.0,
                    holdout_share=share if kind == "holdout" else 0.0,
                    name=f"{prefix}-{kind}-{channel}-{start}{suffix}",
                    readout_end=pd.Timestamp(last) if last else None,
                    lift_start=pd.Timestamp(first) if first else None,
                )
            )
    return out
