"""What a test is worth: expected value of sample information (EVSI), net of what it costs.

The decision a test informs is how much to spend on its channel over the next ``horizon``
periods, chosen from multiples of the current spend. Each posterior draw ``j`` of the media
mix model gives the channel's profit ``P[j, m]`` (its incremental revenue minus its spend) at
each multiple ``m``, and the lift ``L[j]`` the candidate test would measure. Today the best
choice is ``max_m mean_j P[j, m]``. Preposterior simulation: draw a world ``k`` from the
posterior, simulate the test's read-out ``y_k = L[k] + N(0, se^2)``, reweight the draws by
its likelihood, choose the best multiple under the reweighted posterior, and score that choice
by the reweighted expected profit. EVSI is the average over ``k`` of that score minus today's
best; with ``se -> 0`` it tends to the expected value of perfect information (EVPI).

The test's cost is the profit it forgoes against running the plan: for a holdout the revenue
of the lift lost minus the spend not spent, for a spend-up the spend added minus the revenue
of the lift it buys. It is priced pessimistically, at ``cost_quantile`` ``q`` of the lift's
posterior (``testing.cost_quantile``): a holdout's lost lift at its upper ``q`` quantile (the
channel may return more than the model thinks — the very error the test looks for, and then
the holdout forgoes that much more), a spend-up's bought lift at its lower ``1 - q`` quantile
(the channel may return less). Priced at the posterior mean, a holdout of a channel the model
underrates is underpriced by the whole error (benchmark world 1: 13,799 EUR priced, 2.04 M
EUR forgone). Either cost can be negative (the model expects the test to pay for itself) —
which is exactly what the test is there to check, so ``testing.every_test_waits_for_approval``
keeps such a test waiting for a person.

Level: a design carries ``base_spend``, the channel's national spend per period at the plan's
level over its window; its lift is priced there (the history's level when it is nan).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marketing_ops.experiments.designs import Design
from marketing_ops.forecasting.mmm import MMMFit, plan_response_draws

__all__ = [
    "MULTIPLES",
    "InformationValue",
    "current_spend",
    "evpi",
    "evsi",
    "holdout_lift_draws",
    "lift_draws",
    "profit_draws",
    "test_cost",
    "value_of_test",
]

MULTIPLES = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])


@dataclass(frozen=True)
class InformationValue:
    channel: str
    evpi: float  # profit from knowing the channel's response exactly
    evsi: float  # profit from knowing what this test would say
    cost: float  # expected profit forgone by the test (negative: the model expects it to pay)
    expected_lift: float
    lift_sd: float  # the posterior's uncertainty about the test's lift
    kpi_value: float = 1.0  # currency per KPI unit (the lift is in KPI units)
    expected_cost: float = float("nan")  # the cost at the posterior mean lift
    cost_quantile: float = float("nan")  # the quantile ``cost`` is priced at (nan: the mean)

    @property
    def net(self) -> float:
        return self.evsi - self.cost

    @property
    def merit(self) -> float:
        """What tests are ranked on: the value of information less the expected cost when the
        test costs. A negative cost (the model expects the test's spend change to pay) is the
        very belief the test checks, and buying that spend is the budget policy's move, so it
        earns a test no rank: ranked on ``net`` a "free" budget move outranks information."""
        return self.evsi - max(self.cost, 0.0)


def current_spend(fit: MMMFit, channel: str) -> float:
    """Spend per period on ``channel`` over the last adstock window, all geos."""
    c = fit.data.channels.index(channel)
    return float(fit.data.spend[:, -fit.data.window :, c].sum(axis=0).mean())


def reference_spend(fit: MMMFit, channel: str) -> float:
    """The spend per period the decision's multiples scale: :func:`current_spend`, or, when the
    last adstock window spent nothing (a flighted channel between flights, a channel cut to
    zero), the mean of the last year's periods with spend — multiples of nothing are all
    nothing, and the channel would look worth nothing to decide on or to test."""
    now = current_spend(fit, channel)
    if now > 0:
        return now
    year = 52 if fit.data.freq == "W" else 364
    national = fit.data.spend[:, -year:, fit.data.channels.index(channel)].sum(axis=0)
    spent = national[national > 0]
    return float(spent.mean()) if len(spent) else 0.0


def _window_draws(fit: MMMFit, channel: str, totals: np.ndarray, periods: int, n_draws: int):
    grid = {c: totals for c in fit.data.channels}
    return plan_response_draws(fit, grid, periods, n_draws)[channel].draws  # (S, n)


def profit_draws(
    fit: MMMFit,
    channel: str,
    horizon: int,
    multiples=MULTIPLES,
    n_draws: int = 400,
    kpi_value: float = 1.0,
    level: float | None = None,
) -> np.ndarray:
    """(S, M): the channel's incremental revenue minus spend over ``horizon`` per multiple
    of ``level``, the national spend per period the multiples scale (None:
    :func:`reference_spend`, what the model saw last).

    ``kpi_value``: currency per KPI unit (1 when the KPI is revenue; the revenue per
    conversion when the model's KPI is conversions). A caller that executes the chosen
    multiple on a plan passes the plan's level: a multiple of the recent spend applied to a
    plan that differs from it (a re-plan after an earlier one moved the spend) is another
    spend than the one chosen."""
    if level is None:
        level = reference_spend(fit, channel)
    totals = np.asarray(multiples, float) * level * horizon
    kpi = _window_draws(fit, channel, totals, horizon, n_draws)
    return (kpi - kpi[:, [0]]) * kpi_value - totals[None, :]


def holdout_lift_draws(
    fit: MMMFit, channel: str, periods: int, removed_share: float, n_draws: int = 400
) -> np.ndarray:
    """(S,): KPI lost over ``periods`` when ``removed_share`` of the channel's spend stops."""
    full = current_spend(fit, channel) * periods
    totals = np.array([full, full * (1 - removed_share)])
    kpi = _window_draws(fit, channel, totals, periods, n_draws)
    return kpi[:, 0] - kpi[:, 1]


def lift_draws(fit: MMMFit, design: Design, n_draws: int = 400) -> np.ndarray:
    """(S,): the KPI the test would measure, per posterior draw, at the plan's level.

    A holdout: the KPI the removed spend buys (plan minus plan less the removed spend); a
    spend-up: the KPI the added spend buys on top of the plan. A geo test moves spend in its
    treated geos only (``notes["treated_share"]`` = ``w`` of the channel's spend): they are
    priced as a copy of the nation ``w`` in size, ``w * (f(plan + change / w) - f(plan))``
    on the national curve ``f`` — the same money spread over every geo would sit lower on
    the curve (a spend-up priced 5x too cheap in the first benchmark); a national design
    (pulse, audience) has ``w = 1``."""
    level = design.base_spend
    if not math.isfinite(level):
        level = reference_spend(fit, design.channel)
    base = level * design.periods
    share = float(design.notes.get("treated_share", 1.0)) if design.kind == "geo" else 1.0
    share = share if 0 < share <= 1 else 1.0
    if design.spend_up:
        totals = np.array([base + design.spend_added / share, base])
    else:
        totals = np.array([base, max(base - design.spend_removed / share, 0.0)])
    kpi = _window_draws(fit, design.channel, totals, design.periods, n_draws)
    return (kpi[:, 0] - kpi[:, 1]) * share


def evsi(
    profit: np.ndarray,
    lift: np.ndarray,
    standard_error: float,
    n_outcomes: int = 2000,
    seed: int = 0,
) -> float:
    """Preposterior EVSI of observing ``lift + N(0, se^2)`` for the choice over ``profit (S, M)``."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(lift), size=n_outcomes)
    y = lift[k] + rng.normal(0, standard_error, size=n_outcomes)
    log_w = -0.5 * ((y[:, None] - lift[None, :]) / standard_error) ** 2
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    expected = w @ profit  # (K, M) posterior expected profit after each read-out
    # today's best scored on the same simulated read-outs: the estimate is never negative and
    # its Monte Carlo noise cancels between the two terms
    return float(expected.max(axis=1).mean() - expected.mean(axis=0).max())


def evpi(profit: np.ndarray) -> float:
    """Expected value of perfect information about the channel's response."""
    return float(profit.max(axis=1).mean() - profit.mean(axis=0).max())


def test_cost(
    design: Design, lift: np.ndarray, kpi_value: float = 1.0, quantile: float | None = None
) -> float:
    """Profit ``design`` forgoes against the plan, its lift draws ``lift`` priced at the
    posterior mean (``quantile`` None) or pessimistically at ``quantile`` ``q``: a holdout loses
    the lift's upper ``q`` quantile, a spend-up buys its lower ``1 - q`` quantile."""
    if design.spend_up:
        bought = lift.mean() if quantile is None else np.quantile(lift, 1.0 - quantile)
        return float(design.spend_added - bought * kpi_value)
    lost = lift.mean() if quantile is None else np.quantile(lift, quantile)
    return float(lost * kpi_value - design.spend_removed)


test_cost.__test__ = False  # not a pytest test, whatever its name


def value_of_test(
    fit: MMMFit,
    design: Design,
    horizon: int,
    n_draws: int = 400,
    seed: int = 0,
    profit: np.ndarray | None = None,
    kpi_value: float = 1.0,
    cost_quantile: float | None = None,
) -> InformationValue:
    """EVSI, EVPI and cost of ``design`` (a holdout or a spend-up) for the next ``horizon``;
    the cost at ``cost_quantile`` of the lift's posterior (:func:`test_cost`; None: the mean).

    ``profit`` (the channel's :func:`profit_draws` for ``horizon`` and ``n_draws``) saves
    recomputing it when several designs of one channel are priced. The lift stays in KPI
    units (what the test measures); value and cost are in currency (``kpi_value`` per unit)."""
    lift = lift_draws(fit, design, n_draws)
    if profit is None:
        profit = profit_draws(fit, design.channel, horizon, n_draws=n_draws, kpi_value=kpi_value)
    return InformationValue(
        channel=design.channel,
        evpi=evpi(profit),
        evsi=evsi(profit, lift, design.standard_error, seed=seed),
        cost=test_cost(design, lift, kpi_value, cost_quantile),
        expected_lift=float(lift.mean()),
        lift_sd=float(lift.std()),
        kpi_value=float(kpi_value),
        expected_cost=test_cost(design, lift, kpi_value),
        cost_quantile=float("nan") if cost_quantile is None else float(cost_quantile),
    )
