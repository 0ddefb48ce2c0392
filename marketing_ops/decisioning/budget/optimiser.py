"""The budget optimiser: next period's paid budget per channel (or campaign), under policy.

Why SLSQP on the response curves themselves rather than a piecewise-linear LP: the revenue of
a period's budget depends on daily adstock carried in from last period, the seasonal index of
each day and the Hill saturation, all smooth in the amount; the problem is separable across
plan lines with a handful of linear constraints (total, per-channel and per-campaign bounds,
locks, max shift) and at most one smooth non-linear one (target ROAS, target revenue). SLSQP
solves that exactly on the true curves with cheap analytic-by-difference gradients (each
line's derivative costs two curve evaluations), where a linearisation would trade accuracy
against the number of breakpoints. Hill curves with shape > 1 are S-shaped, so SLSQP is
started from several points (last period's split, an even split, the bounds' midpoint) and
the best feasible optimum wins; a feasible alternative that beats it would be taken instead,
so the plan is never worse than the alternatives it reports.

Revenue of a plan line is the INCREMENTAL revenue of the plan's own spend on the period's
days: the period amount is phased across days by the seasonal index, run through the curve
with the adstock carried in from the spend before the period, and summed; the response the
carried-in adstock buys on its own (the same curve at zero plan spend) is subtracted, since
no plan can change it. Spend before the window thus still shapes the plan (it moves each
channel along its saturation curve), and ROAS and CPA targets are judged on what the plan
buys, not on last week's money.

Carry-over *after* the period counts with ``carryover_days`` = T of the budget policy
(``BudgetPolicy.tail_days``; ``auto``, the default, is resolved before the plan by
:func:`marketing_ops.decisioning.decide.carryover_of`: T = 28 when tests measured every
planned channel's decay, else 0). T = 0 is myopic and under-values high-decay channels: a
decay of 0.9 returns ~1/5 of its steady marginal ROAS within a week (docs/decisions.md,
2026-12-05); valued on an unmeasured decay the tail misleads (2026-12-06). The following
weeks are held at the plan: over the T days after the period each line keeps spending the
period's own daily amounts (and the seasonal index repeats the period's), and a plan is
valued by the revenue of that whole horizon, over what the carried-in adstock sells alone,
scaled to one period (x P / (P + T)). Why this quantity: it ranks splits by what they earn
when kept (at a steady state it is exactly the steady weekly revenue, whatever T), and it
stays in one period's money, so ROAS and profit compare it with the period's spend (the
horizon's spend is the period's times (P + T) / P). Rejected: valuing the tail with nothing
spent after the period (the 2026-12-05 definition), which runs the tail down the bottom of
each curve, a region no +/-30 % test measures and a market that keeps spending never visits
(docs/decisions.md, 2026-12-06); and the period's own increment over a continuation held in
both arms (revenue with the plan minus revenue with nothing spent in the period, the plan
going on after), which values each channel at its margin (next euro x amount) instead of what
the split earns, so its best split is not the best split to keep. Cost: the carry-over of the
horizon's last days past its end is not counted (for a daily decay d about d / (1 - d) days of
the horizon's P + T, e.g. ~25 % of a decay-0.9 channel's value at T = 28, ~9 % at T = 90).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize

from marketing_ops.decisioning.policy import BudgetPolicy, ChannelBounds
from marketing_ops.forecasting.curves import ResponseCurve

__all__ = [
    "Alternative",
    "BudgetPlan",
    "PlanBounds",
    "PlanLine",
    "phase_budget",
    "incremental_period_revenue",
    "period_revenue",
    "plan_bounds",
    "plan_budget",
]

_TOL = 1e-6  # relative tolerance for "a bound is active" and feasibility checks


@dataclass(frozen=True)
class Alternative:
    """A plan the agent did not choose, scored on the same curves."""

    description: str
    amounts: dict[str, float]
    expected_revenue: float
    difference: float  # chosen plan's expected revenue minus this one's
    feasible: bool
    violations: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanLine:
    """One channel's (or campaign's) budget for the period."""

    key: str
    channel: str
    campaign_id: str | None
    amount: float
    last_amount: float
    daily: tuple[float, ...]
    expected_conversions: float
    expected_revenue: float
    revenue_lower: float
    revenue_upper: float
    conversions_lower: float
    conversions_upper: float
    marginal_roi: float
    value_per_conversion: float
    binding: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    # share of the curve samples on which the line's next euro returns less than 1 EUR
    # (NaN without samples): the risk that the money at the margin is lost
    p_marginal_roi_below_1: float = math.nan

    @property
    def expected_profit(self) -> float:
        """Expected revenue minus the spend itself (EUR, period)."""
        return self.expected_revenue - self.amount

    @property
    def profit_lower(self) -> float:
        return self.revenue_lower - self.amount

    @property
    def profit_upper(self) -> float:
        return self.revenue_upper - self.amount

    @property
    def confidence(self) -> float:
        """1 - relative interval width, in [0, 1]; 0 when there is no interval to judge by."""
        if not (math.isfinite(self.revenue_lower) and math.isfinite(self.revenue_upper)):
            return 0.0
        if self.expected_revenue <= 0:
            return 0.0
        width = (self.revenue_upper - self.revenue_lower) / self.expected_revenue
        return float(min(1.0, max(0.0, 1.0 - width)))


@dataclass(frozen=True)
class BudgetPlan:
    """The optimised plan, how sure we are, what held it back and what else was possible."""

    objective: str
    period_days: int
    lines: tuple[PlanLine, ...]
    total_spend: float
    expected_revenue: float
    expected_conversions: float
    revenue_lower: float
    revenue_upper: float
    binding_constraints: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    notes: tuple[str, ...] = ()
    solver: str = ""
    extra: dict = field(default_factory=dict)
    conversions_lower: float = math.nan
    conversions_upper: float = math.nan
    total_budget: float = math.nan  # the period total (exact or ceiling) the plan keeps to

    def line(self, key: str) -> PlanLine:
        return next(line for line in self.lines if line.key == key)

    @property
    def expected_profit(self) -> float:
        return self.expected_revenue - self.total_spend

    @property
    def amounts(self) -> dict[str, float]:
        return {line.key: line.amount for line in self.lines}


def phase_budget(amount: float, index: np.ndarray | None, period_days: int) -> np.ndarray:
    """Split a period amount across its days in proportion to the seasonal index.

    The index is cut or padded (with 1.0, an average day) to the period; a non-positive
    index sum falls back to an even split, since spend cannot follow a meaningless shape.
    """
    idx = _period_index(index, period_days)
    total = idx.sum()
    shares = idx / total if total > 0 else np.full(period_days, 1.0 / period_days)
    return float(amount) * shares


def _period_index(index: np.ndarray | None, period_days: int) -> np.ndarray:
    if index is None:
        return np.ones(period_days)
    idx = np.asarray(index, dtype=float)[:period_days]
    if len(idx) < period_days:
        idx = np.concatenate([idx, np.ones(period_days - len(idx))])
    return np.clip(np.nan_to_num(idx, nan=1.0), 0.0, None)


def _phased_path(
    amount: float, index: np.ndarray | None, period_days: int, tail_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(daily spend, daily index) over the period and ``tail_days`` after it: the amount phased
    over the period, then the following weeks held at the plan (the period's daily spend and
    its index repeated over the tail)."""
    idx = _period_index(index, period_days)
    daily = phase_budget(max(amount, 0.0), idx, period_days)
    if tail_days <= 0:
        return daily, idx
    return np.concatenate([daily, np.resize(daily, tail_days)]), np.concatenate(
        [idx, np.resize(idx, tail_days)]
    )


def _per_period(total, period_days: int, tail_days: int):
    """A horizon's (period + ``tail_days``) total scaled to one period: the horizon spends the
    period's amount (P + T) / P times, so its revenue per period's spend is total x P / (P + T).
    Without a tail the total itself (no arithmetic: ``carryover_days: 0`` is unchanged)."""
    if tail_days <= 0:
        return total
    return total * (period_days / (period_days + tail_days))


def period_revenue(
    curve: ResponseCurve,
    amount: float,
    index: np.ndarray | None,
    initial_adstock: float,
    period_days: int,
    tail_days: int = 0,
) -> tuple[float, float]:
    """(conversions, revenue) the curve expects over the period for a phased amount; with
    ``tail_days``, over the period and that many days after it at the same daily spend (the
    following weeks held at the plan), scaled to one period (module docstring)."""
    daily, idx = _phased_path(amount, index, period_days, tail_days)
    conv = _per_period(
        float(curve.conversions(daily, idx, initial_adstock).sum()), period_days, tail_days
    )
    return conv, conv * curve.value_per_conversion


def incremental_period_revenue(
    curve: ResponseCurve,
    amount: float,
    index: np.ndarray | None,
    initial_adstock: float,
    period_days: int,
    tail_days: int = 0,
) -> tuple[float, float]:
    """(conversions, revenue) the period's ``amount`` adds over the period (with
    ``tail_days``: over the period and that many days after it, the plan's daily spend going
    on, scaled to one period) on top of what the carried-in adstock buys on its own
    (:func:`period_revenue` minus the same at zero)."""
    conv, rev = period_revenue(curve, amount, index, initial_adstock, period_days, tail_days)
    conv0, rev0 = period_revenue(curve, 0.0, index, initial_adstock, period_days, tail_days)
    return conv - conv0, rev - rev0


@dataclass
class _Group:
    """A linear limit on the sum of some lines' amounts (a channel with several campaigns)."""

    label_lo: str
    label_hi: str
    members: list[int]
    lo: float
    hi: float


_NO_NEGATIVE = "no negative spend"


@dataclass
class PlanBounds:
    """Every limit a plan must keep, in one place: per line ``lo``/``hi`` with the words that
    say why (``lo_labels``/``hi_labels``), channel limits shared by several campaign lines
    (``groups``), the period total and whether it must be spent exactly (``fixed_total``).

    The optimiser plans within these bounds and reports the ones that bind; tests check plans
    against them rather than against a copy of the rules.
    """

    keys: list[str]
    channels: list[str]
    last: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    lo_labels: list[str]
    hi_labels: list[str]
    groups: list[_Group]
    total: float
    fixed_total: bool
    notes: list[str]

    @property
    def scale(self) -> float:
        """The problem's money scale (the solver works on amounts divided by it)."""
        finite = np.where(np.isfinite(self.hi), self.hi, 0.0)
        return max(self.total, float(np.nanmax(finite, initial=0.0)), 1.0)

    @property
    def hi_eff(self) -> np.ndarray:
        """Upper bounds cut to the total: no line can exceed it, which also bounds the search."""
        return np.minimum(self.hi, self.total)

    def line_range(self, key: str) -> tuple[float, float]:
        """(lowest, highest) amount a plan line may have on its own."""
        i = self.keys.index(key)
        return float(self.lo[i]), float(self.hi[i])

    def channel_range(self, channel: str) -> tuple[float, float]:
        """(lowest, highest) sum of a channel's lines: its group's limits when it has several
        campaign lines, else its one line's range."""
        for g in self.groups:
            if self.channels[g.members[0]] == channel:
                return g.lo, g.hi
        return self.line_range(self.keys[self.channels.index(channel)])


def plan_bounds(
    curves: dict[str, ResponseCurve],
    last_period_spend: dict[str, float],
    policy: BudgetPolicy,
    baseline_label: str = "last period",
) -> PlanBounds:
    """The limits a plan over these lines must keep under ``policy`` (see :class:`PlanBounds`):
    daily channel limits narrowed by the max shift where they agree, campaign limits, locks,
    and the total (raised to the minimums or cut to the maximums when they force it, with a
    note saying so)."""
    keys = sorted(curves)
    chan = [curves[k].channel for k in keys]
    last = np.array([max(float(last_period_spend.get(k, 0.0)), 0.0) for k in keys])
    b = PlanBounds(
        keys=keys,
        channels=chan,
        last=last,
        lo=np.zeros(len(keys)),
        hi=np.full(len(keys), np.inf),
        lo_labels=[_NO_NEGATIVE] * len(keys),
        hi_labels=[""] * len(keys),
        groups=[],
        total=0.0,
        fixed_total=False,
        notes=[],
    )
    _channel_limits(b, policy, baseline_label)
    _campaign_limits(b, policy)
    _locks(b, policy)
    _total_budget(b, policy)
    return b


def _channel_limits(b: PlanBounds, policy: BudgetPolicy, baseline_label: str) -> None:
    """Each channel's range: one line's own bounds, or a group over its campaign lines."""
    for c in sorted(set(b.channels)):
        members = [i for i, ch in enumerate(b.channels) if ch == c]
        bounds = policy.channels.get(c, ChannelBounds())
        rng = _resolve(
            c,
            float(b.last[members].sum()),
            bounds,
            policy.max_shift_pct,
            policy.period_days,
            b.notes,
            baseline_label,
        )
        if len(members) == 1:
            i = members[0]
            b.lo[i], b.hi[i], b.lo_labels[i], b.hi_labels[i] = rng
        else:
            b.groups.append(_Group(rng[2], rng[3], members, rng[0], rng[1]))


def _campaign_limits(b: PlanBounds, policy: BudgetPolicy) -> None:
    """A campaign's own daily limits narrow its line (they win over a conflicting channel's)."""
    days = policy.period_days
    for i, k in enumerate(b.keys):
        if k == b.channels[i] or k not in policy.campaigns:
            continue
        cb = policy.campaigns[k]
        c_lo, c_hi = cb.min_eur_per_day * days, _cap(cb.max_eur_per_day, days)
        if c_lo > b.lo[i]:
            b.lo[i], b.lo_labels[i] = c_lo, f"{k}: campaign min {cb.min_eur_per_day:g} EUR/day"
        if c_hi < b.hi[i]:
            b.hi[i], b.hi_labels[i] = c_hi, f"{k}: campaign max {cb.max_eur_per_day:g} EUR/day"
        if b.lo[i] > b.hi[i]:
            b.notes.append(
                f"{k}: campaign limits conflict with its channel's; campaign limits used"
            )
            b.lo[i], b.hi[i] = c_lo, c_hi


def _locks(b: PlanBounds, policy: BudgetPolicy) -> None:
    """A locked channel's lines keep last period's amounts."""
    for i, c in enumerate(b.channels):
        if c in policy.locked_channels:
            b.lo[i] = b.hi[i] = b.last[i]
            b.lo_labels[i] = b.hi_labels[i] = f"{c}: locked at last period's spend"


def _total_budget(b: PlanBounds, policy: BudgetPolicy) -> None:
    """The period total: the policy's (or last period's), within what the line limits allow."""
    last_total = float(b.last.sum())
    total = last_total if policy.total_budget == "keep_last_period" else float(policy.total_budget)
    b.fixed_total = (
        policy.objective == "max_revenue"
        and policy.target_roas is None
        and policy.target_cpa is None
    )
    lo_sum, hi_sum = float(b.lo.sum()), float(b.hi.sum())
    if total < lo_sum - 1e-9:
        b.notes.append(
            f"total budget {total:,.0f} EUR is below the channels' minimums; planned {lo_sum:,.0f}"
        )
        total = lo_sum
    if b.fixed_total and total > hi_sum + 1e-9:
        b.notes.append(
            f"total budget {total:,.0f} EUR is above the channels' maximums; planned {hi_sum:,.0f}"
        )
        total = hi_sum
    b.total = total


@dataclass(frozen=True)
class _Draws:
    """A line's sampled curves as parameter arrays ``(S,)``, evaluated all at once."""

    decay: np.ndarray
    half: np.ndarray
    shape: np.ndarray
    max_response: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, curves: list[ResponseCurve]) -> _Draws:
        col = lambda name: np.array([getattr(c, name) for c in curves], dtype=float)  # noqa: E731
        return cls(
            col("decay"),
            col("half_saturation"),
            col("shape"),
            col("max_response"),
            col("value_per_conversion"),
        )

    def period(self, daily: np.ndarray, index: np.ndarray, carry: float) -> np.ndarray:
        """Conversions per draw over the period's days (the curves' own recursion)."""
        a, total = np.full(len(self.decay), float(carry)), np.zeros(len(self.decay))
        for x, idx in zip(daily, index, strict=True):
            a = x + self.decay * a
            xs = np.power(np.maximum(a, 0.0), self.shape)
            total += idx * self.max_response * xs / (xs + np.power(self.half, self.shape))
        return total


def expected_period_revenue(
    draws: _Draws,
    amount: float,
    index: np.ndarray | None,
    carry: float,
    days: int,
    tail_days: int = 0,
) -> tuple[float, float]:
    """(conversions, revenue) ``amount`` adds over the period (with ``tail_days``: over the
    period and that many days after it at the plan's daily spend, scaled to one period, as
    :func:`period_revenue`), averaged over the draws: the posterior expectation (a
    median-parameter curve need not be any draw's curve)."""
    daily, idx = _phased_path(amount, index, days, tail_days)
    conv = _per_period(
        draws.period(daily, idx, carry) - draws.period(np.zeros(len(daily)), idx, carry),
        days,
        tail_days,
    )
    return float(conv.mean()), float((conv * draws.value).mean())


@dataclass
class _PlanCurves:
    """Revenue and conversions of a plan (one amount per line) on the lines' curves, each
    phased by its seasonal index and carrying its adstock in; with ``draws`` (a posterior),
    the expectation over them instead of the point curve."""

    keys: list[str]
    curves: list[ResponseCurve]
    index: list[np.ndarray]
    carry_in: list[float]
    days: int
    scale: float
    draws: list[_Draws | None] = field(default_factory=list)
    tail: int = 0  # days after the period valued, the plan's spend going on (module docstring)

    @classmethod
    def build(
        cls,
        curves: dict[str, ResponseCurve],
        seasonal_index: dict[str, np.ndarray],
        initial_adstock: dict[str, float],
        days: int,
        scale: float,
        posterior: dict[str, list[ResponseCurve]] | None = None,
        tail: int = 0,
    ) -> _PlanCurves:
        """A line's seasonal index and carry-in are its own, else its channel's; a line with
        ``posterior`` draws is valued by their expectation."""
        keys = sorted(curves)
        chan = [curves[k].channel for k in keys]
        posterior = posterior or {}
        return cls(
            keys=keys,
            curves=[curves[k] for k in keys],
            index=[
                _period_index(seasonal_index.get(k, seasonal_index.get(c)), days)
                for k, c in zip(keys, chan, strict=True)
            ],
            carry_in=[
                float(initial_adstock.get(k, initial_adstock.get(c, 0.0)))
                for k, c in zip(keys, chan, strict=True)
            ],
            days=days,
            scale=scale,
            draws=[_Draws.of(posterior[k]) if posterior.get(k) else None for k in keys],
            tail=tail,
        )

    @property
    def n(self) -> int:
        return len(self.curves)

    def line(self, i: int, amount: float) -> tuple[float, float]:
        """(conversions, revenue) line ``i``'s ``amount`` adds (carry-in response excluded)."""
        if self.draws and self.draws[i] is not None:
            return expected_period_revenue(
                self.draws[i], amount, self.index[i], self.carry_in[i], self.days, self.tail
            )
        return incremental_period_revenue(
            self.curves[i], amount, self.index[i], self.carry_in[i], self.days, self.tail
        )

    def carry_in_revenue(self) -> float:
        """Revenue the period gets from the adstock carried in alone (no plan spend; point
        curves)."""
        return float(
            sum(
                period_revenue(c, 0.0, idx, a, self.days, self.tail)[1]
                for c, idx, a in zip(self.curves, self.index, self.carry_in, strict=True)
            )
        )

    def line_revenue(self, i: int, amount: float) -> float:
        return self.line(i, amount)[1]

    def line_conversions(self, i: int, amount: float) -> float:
        return self.line(i, amount)[0]

    def revenue(self, x: np.ndarray) -> float:
        return float(sum(self.line_revenue(i, x[i]) for i in range(self.n)))

    def conversions(self, x: np.ndarray) -> float:
        return float(sum(self.line_conversions(i, x[i]) for i in range(self.n)))

    def _grad(self, fn, x: np.ndarray) -> np.ndarray:
        """Per-line derivative by central difference (forward at zero): lines are separable."""
        g = np.empty(self.n)
        h = max(1e-4, 1e-7 * self.scale)
        for i in range(self.n):
            a = x[i]
            if a - h >= 0:
                g[i] = (fn(i, a + h) - fn(i, a - h)) / (2 * h)
            else:
                g[i] = (fn(i, a + h) - fn(i, a)) / h
        return g

    def revenue_grad(self, x: np.ndarray) -> np.ndarray:
        return self._grad(self.line_revenue, x)

    def conversions_grad(self, x: np.ndarray) -> np.ndarray:
        return self._grad(self.line_conversions, x)


def plan_budget(
    curves: dict[str, ResponseCurve],
    last_period_spend: dict[str, float],
    seasonal_index: dict[str, np.ndarray],
    initial_adstock: dict[str, float],
    policy: BudgetPolicy,
    samples: dict[str, list[ResponseCurve]] | None = None,
    baseline_label: str = "last period",
    expectation: bool = False,
) -> BudgetPlan:
    """Optimise next period's budget per plan line (curves keyed by channel or campaign id).

    ``expectation``: value each line by the average over its ``samples`` (a posterior's
    draws: the plan maximises expected revenue) rather than by its point curve.

    A key that is not its curve's channel is a campaign of that channel: channel limits then
    apply to the sum of its campaigns, campaign limits to the line itself.
    ``last_period_spend`` is the split the max shift is measured from; ``baseline_label``
    names it in the binding constraints.
    """
    if not curves:
        raise ValueError("plan_budget needs at least one response curve")
    bounds = plan_bounds(curves, last_period_spend, policy, baseline_label)
    model = _PlanCurves.build(
        curves,
        seasonal_index,
        initial_adstock,
        policy.period_days,
        bounds.scale,
        samples if expectation else None,
        policy.tail_days,
    )
    x_opt, message = _solve(model, bounds, policy)
    if x_opt is None:
        # Nothing meets every limit (e.g. the target ROAS or revenue is out of reach): fall back
        # to the best revenue for the total within the hard bounds and say so.
        if bounds.fixed_total:
            raise RuntimeError(
                f"budget optimiser found no plan within the limits: {message}; {bounds.notes}"
            )
        return _fallback_plan(
            curves,
            last_period_spend,
            seasonal_index,
            initial_adstock,
            policy,
            samples,
            bounds,
            baseline_label,
            expectation,
        )
    notes = list(bounds.notes)
    spend = float(x_opt.sum())  # a split that replaces the optimum spends the same
    splits = _simple_splits(bounds, spend, baseline_label)
    x_opt = _never_worse_than_splits(model, bounds, policy, x_opt, splits, notes)
    carried = model.carry_in_revenue()
    if carried > 0.5:
        notes.append(
            f"carry-in: spend before the period buys {carried:,.0f} EUR in it on its own "
            "(not credited to the plan)"
        )
    line_binding = _line_binding(bounds, x_opt)
    samples = samples or {}
    draws = _line_draws(model, x_opt, samples)
    plan_lines = _plan_lines(
        model, bounds, x_opt, spend, line_binding, draws, samples, baseline_label
    )
    p_lo, p_hi = _total_interval([rev for _, rev in draws])
    pc_lo, pc_hi = _total_interval([conv for conv, _ in draws])
    return BudgetPlan(
        objective=policy.objective,
        period_days=policy.period_days,
        lines=plan_lines,
        total_spend=spend,
        expected_revenue=model.revenue(x_opt),
        expected_conversions=float(sum(line.expected_conversions for line in plan_lines)),
        revenue_lower=p_lo,
        revenue_upper=p_hi,
        binding_constraints=tuple(_plan_binding(model, bounds, policy, x_opt, spend, line_binding)),
        alternatives=_alternatives(model, bounds, policy, x_opt, splits),
        notes=tuple(notes),
        solver=message,
        extra={"carry_in_revenue": carried},
        conversions_lower=pc_lo,
        conversions_upper=pc_hi,
        total_budget=bounds.total,
    )


def _objective(model: _PlanCurves, policy: BudgetPolicy, r_scale: float):
    """(objective, its gradient) in scaled units z = x / scale: fewest euros, most profit or
    most revenue, each to be minimised."""
    scale, n = model.scale, model.n
    if policy.objective == "min_spend":
        return (lambda z: float(z.sum())), (lambda z: np.ones(n))
    if policy.objective == "target_cpa":
        c_scale = max(model.conversions(np.full(n, scale / n)), 1e-6)
        return (
            lambda z: -model.conversions(z * scale) / c_scale,
            lambda z: -model.conversions_grad(z * scale) * scale / c_scale,
        )
    if policy.objective == "max_profit":

        def obj(z: np.ndarray) -> float:
            x = z * scale
            return -(model.revenue(x) - x.sum()) / r_scale

        def obj_jac(z: np.ndarray) -> np.ndarray:
            return -(model.revenue_grad(z * scale) - 1.0) * scale / r_scale

        return obj, obj_jac
    return (
        lambda z: -model.revenue(z * scale) / r_scale,
        lambda z: -model.revenue_grad(z * scale) * scale / r_scale,
    )


def _total_constraint(bounds: PlanBounds, scale: float, ones: np.ndarray) -> dict:
    """Spend the total exactly, or at most it when a target decides how much to spend."""
    total = bounds.total
    if bounds.fixed_total:
        return {
            "type": "eq",
            "fun": lambda z: (z.sum() * scale - total) / scale,
            "jac": lambda z: ones,
        }
    return {
        "type": "ineq",
        "fun": lambda z: (total - z.sum() * scale) / scale,
        "jac": lambda z: -ones,
    }


def _group_constraints(bounds: PlanBounds, scale: float) -> list[dict]:
    """A channel's limits on the sum of its campaign lines."""
    cons = []
    for g in bounds.groups:
        mask = np.zeros(len(bounds.keys))
        mask[g.members] = 1.0
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z, m=mask, v=g.lo: (m @ z * scale - v) / scale,
                "jac": lambda z, m=mask: m,
            }
        )
        if math.isfinite(g.hi):
            cons.append(
                {
                    "type": "ineq",
                    "fun": lambda z, m=mask, v=g.hi: (v - m @ z * scale) / scale,
                    "jac": lambda z, m=mask: -m,
                }
            )
    return cons


def _target_constraints(
    model: _PlanCurves, policy: BudgetPolicy, r_scale: float, c_scale: float
) -> list[dict]:
    """Target ROAS, target CPA, and the revenue or conversions a min-spend plan must reach."""
    scale, cons = model.scale, []
    if policy.target_roas is not None:
        roas = policy.target_roas
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (model.revenue(z * scale) - roas * z.sum() * scale) / r_scale,
                "jac": lambda z: (model.revenue_grad(z * scale) - roas) * scale / r_scale,
            }
        )
    if policy.target_cpa is not None:
        cpa = policy.target_cpa
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (cpa * model.conversions(z * scale) - z.sum() * scale) / scale,
                "jac": lambda z: cpa * model.conversions_grad(z * scale) - 1.0,
            }
        )
    if policy.objective == "min_spend" and policy.target_conversions is not None:
        target_c = float(policy.target_conversions)
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (model.conversions(z * scale) - target_c) / c_scale,
                "jac": lambda z: model.conversions_grad(z * scale) * scale / c_scale,
            }
        )
    elif policy.objective == "min_spend":
        target = float(policy.target_revenue or 0.0)
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (model.revenue(z * scale) - target) / r_scale,
                "jac": lambda z: model.revenue_grad(z * scale) * scale / r_scale,
            }
        )
    return cons


def _solve(
    model: _PlanCurves, bounds: PlanBounds, policy: BudgetPolicy
) -> tuple[np.ndarray | None, str]:
    """Multi-start SLSQP: the best feasible optimum from last period's split, an even split
    and the bounds' midpoint (None when no start ends within every limit)."""
    n, scale, total = model.n, model.scale, bounds.total
    lo, hi_eff, last = bounds.lo, bounds.hi_eff, bounds.last
    r_scale = max(
        model.revenue(np.clip(last, lo, hi_eff)), model.revenue(np.full(n, total / n)), 1.0
    )
    c_scale = max(
        model.conversions(np.clip(last, lo, hi_eff)), model.conversions(np.full(n, total / n)), 1e-6
    )
    obj, obj_jac = _objective(model, policy, r_scale)
    cons = [
        _total_constraint(bounds, scale, np.ones(n)),
        *_group_constraints(bounds, scale),
        *_target_constraints(model, policy, r_scale, c_scale),
    ]
    box = [(lo[i] / scale, hi_eff[i] / scale) for i in range(n)]
    best, best_val, message = None, math.inf, "no start converged"
    for x0 in _starts(bounds):
        res = minimize(
            obj,
            x0 / scale,
            jac=obj_jac,
            bounds=box,
            constraints=cons,
            method="SLSQP",
            options={"maxiter": 500, "ftol": 1e-12},
        )
        x = np.clip(res.x * scale, lo, hi_eff)
        if not _violations(x, bounds, policy, model) and res.fun < best_val:
            best, best_val, message = x, float(res.fun), str(res.message)
    return best, message


def _starts(bounds: PlanBounds) -> list[np.ndarray]:
    """Last period's split, an even split and the bounds' midpoint, each fitted to the total
    (Hill curves with shape > 1 are S-shaped: one start can stop in a poor local optimum)."""
    lo, hi_eff, total, n = bounds.lo, bounds.hi_eff, bounds.total, len(bounds.keys)
    last = bounds.last
    return [
        _fit_total(last if float(last.sum()) > 0 else np.ones(n), lo, hi_eff, total),
        _fit_total(np.ones(n), lo, hi_eff, total),
        _fit_total(np.where(np.isfinite(hi_eff), (lo + hi_eff) / 2, lo + 1.0), lo, hi_eff, total),
    ]


def _fallback_plan(
    curves: dict[str, ResponseCurve],
    last_period_spend: dict[str, float],
    seasonal_index: dict[str, np.ndarray],
    initial_adstock: dict[str, float],
    policy: BudgetPolicy,
    samples: dict[str, list[ResponseCurve]] | None,
    bounds: PlanBounds,
    baseline_label: str,
    expectation: bool = False,
) -> BudgetPlan:
    """The most revenue for the total within the hard limits, when a target is out of reach;
    the plan keeps the policy's objective and says which target could not be met."""
    fallback = policy.model_copy(
        update={
            "objective": "max_revenue",
            "target_roas": None,
            "target_cpa": None,
            "target_revenue": None,
            "target_conversions": None,
            "total_budget": bounds.total,
        }
    )
    plan = plan_budget(
        curves,
        last_period_spend,
        seasonal_index,
        initial_adstock,
        fallback,
        samples,
        baseline_label,
        expectation,
    )
    why = " and ".join(
        w
        for w, on in (
            ("target ROAS", policy.target_roas is not None),
            ("target CPA", policy.target_cpa is not None),
            ("target revenue", policy.target_revenue is not None),
            ("target conversions", policy.target_conversions is not None),
        )
        if on
    )
    note = f"{why} not reachable within the limits; planned the most revenue for the total instead"
    return replace(plan, objective=policy.objective, notes=(*bounds.notes, note, *plan.notes))


def _simple_splits(
    bounds: PlanBounds, spend: float, baseline_label: str
) -> list[tuple[str, np.ndarray]]:
    """Last period's split and an even split, at the plan's spend."""
    last, n = bounds.last, len(bounds.keys)
    last_total = float(last.sum())
    return [
        (
            "keep last period's split" if baseline_label == "last period" else baseline_label,
            (last / last_total * spend) if last_total > 0 else np.full(n, spend / n),
        ),
        ("even split across channels", np.full(n, spend / n)),
    ]


def _plan_value(model: _PlanCurves, policy: BudgetPolicy):
    """What the objective maximises: profit, conversions (target CPA) or revenue."""
    if policy.objective == "max_profit":
        return lambda x: model.revenue(x) - x.sum()
    if policy.objective == "target_cpa":
        return model.conversions
    return model.revenue


def _never_worse_than_splits(
    model: _PlanCurves,
    bounds: PlanBounds,
    policy: BudgetPolicy,
    x_opt: np.ndarray,
    splits: list[tuple[str, np.ndarray]],
    notes: list[str],
) -> np.ndarray:
    """A feasible simple split that beats the optimiser's result is taken instead (and said)."""
    value = _plan_value(model, policy)
    for desc, x_alt in splits:
        if (
            not _violations(x_alt, bounds, policy, model)
            and policy.objective != "min_spend"
            and value(x_alt) > value(x_opt) + 1e-9
        ):
            notes.append(f"the optimiser's result was beaten by '{desc}', which is used instead")
            x_opt = x_alt
    return x_opt


def _alternatives(
    model: _PlanCurves,
    bounds: PlanBounds,
    policy: BudgetPolicy,
    x_opt: np.ndarray,
    splits: list[tuple[str, np.ndarray]],
) -> tuple[Alternative, ...]:
    """The simple splits scored on the same curves, with the limits they would break."""
    plan_rev = model.revenue(x_opt)
    keys = bounds.keys
    out = []
    for desc, x_alt in splits:
        amounts = ", ".join(f"{k} {a:,.0f}" for k, a in zip(keys, x_alt, strict=True))
        violations = _violations(x_alt, bounds, policy, model)
        out.append(
            Alternative(
                description=f"{desc} ({amounts} EUR)",
                amounts=dict(zip(keys, map(float, x_alt), strict=True)),
                expected_revenue=model.revenue(x_alt),
                difference=plan_rev - model.revenue(x_alt),
                feasible=not violations,
                violations=tuple(violations),
            )
        )
    return tuple(out)


def _line_binding(bounds: PlanBounds, x_opt: np.ndarray) -> list[list[str]]:
    """Per line, the limits it sits on (its own and its channel group's), in words."""
    n, keys = len(bounds.keys), bounds.keys
    lo, hi = bounds.lo, bounds.hi
    line_binding: list[list[str]] = [[] for _ in range(n)]
    tol = _TOL * bounds.scale
    for i in range(n):
        if abs(x_opt[i] - lo[i]) <= tol:
            if bounds.lo_labels[i] != _NO_NEGATIVE:
                line_binding[i].append(bounds.lo_labels[i])
            else:
                line_binding[i].append(
                    f"{keys[i]}: nothing (its next euro returns less than elsewhere)"
                )
        if (
            math.isfinite(hi[i])
            and abs(x_opt[i] - hi[i]) <= tol
            and bounds.hi_labels[i]
            and bounds.hi_labels[i] not in line_binding[i]
        ):
            line_binding[i].append(bounds.hi_labels[i])
    for g in bounds.groups:
        s = float(x_opt[g.members].sum())
        for label, bound in ((g.label_lo, g.lo), (g.label_hi, g.hi)):
            if label != _NO_NEGATIVE and math.isfinite(bound) and abs(s - bound) <= tol:
                for i in g.members:
                    line_binding[i].append(label)
    return line_binding


def _plan_binding(
    model: _PlanCurves,
    bounds: PlanBounds,
    policy: BudgetPolicy,
    x_opt: np.ndarray,
    spend: float,
    line_binding: list[list[str]],
) -> list[str]:
    """Every limit that held the plan back: the lines' own, then the total and the targets."""
    binding: list[str] = []
    for lb in line_binding:
        binding.extend(b for b in lb if b not in binding)
    days, total = policy.period_days, bounds.total
    if bounds.fixed_total:
        binding.append(f"total budget {total:,.0f} EUR for {days} days")
    elif abs(spend - total) <= _TOL * bounds.scale:
        binding.append(f"total budget ceiling {total:,.0f} EUR for {days} days")
    plan_rev = model.revenue(x_opt)
    if policy.target_roas is not None and plan_rev <= policy.target_roas * spend * (1 + 1e-4):
        binding.append(f"target ROAS {policy.target_roas:g}")
    plan_conv = model.conversions(x_opt)
    if policy.target_cpa is not None and spend >= policy.target_cpa * plan_conv * (1 - 1e-4):
        binding.append(f"target CPA {policy.target_cpa:g} EUR")
    if policy.objective == "min_spend" and policy.target_conversions is not None:
        binding.append(f"target conversions {policy.target_conversions:,.0f}")
    elif policy.objective == "min_spend":
        binding.append(f"target revenue {policy.target_revenue:,.0f} EUR")
    return binding


def _line_draws(
    model: _PlanCurves, x_opt: np.ndarray, samples: dict[str, list[ResponseCurve]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per line, (conversions, revenue) under each bootstrap curve at the planned amount; the
    point estimate alone when the line has no samples."""
    out = []
    for i in range(model.n):
        key_samples = samples.get(model.keys[i], [])
        if key_samples:
            draws = [
                incremental_period_revenue(
                    s, x_opt[i], model.index[i], model.carry_in[i], model.days, model.tail
                )
                for s in key_samples
            ]
            out.append((np.array([d[0] for d in draws]), np.array([d[1] for d in draws])))
        else:
            conv, rev = model.line(i, x_opt[i])
            out.append((np.array([conv]), np.array([rev])))
    return out


def _plan_lines(
    model: _PlanCurves,
    bounds: PlanBounds,
    x_opt: np.ndarray,
    spend: float,
    line_binding: list[list[str]],
    draws: list[tuple[np.ndarray, np.ndarray]],
    samples: dict[str, list[ResponseCurve]],
    baseline_label: str,
) -> tuple[PlanLine, ...]:
    """Each line's figures: intervals from its bootstrap draws, marginal ROI, the limits it
    sits on and its own alternatives."""
    grad = model.revenue_grad(x_opt)
    out = []
    for i, k in enumerate(bounds.keys):
        conv, rev = model.line(i, x_opt[i])
        d_conv, d_rev = draws[i]
        if samples.get(k):
            r_lo, r_hi = np.percentile(d_rev, [5, 95])
            c_lo, c_hi = np.percentile(d_conv, [5, 95])
        else:
            r_lo = r_hi = c_lo = c_hi = math.nan
        line = PlanLine(
            key=k,
            channel=bounds.channels[i],
            campaign_id=None if k == bounds.channels[i] else k,
            amount=float(x_opt[i]),
            last_amount=float(bounds.last[i]),
            daily=tuple(float(v) for v in phase_budget(x_opt[i], model.index[i], model.days)),
            expected_conversions=conv,
            expected_revenue=rev,
            revenue_lower=float(r_lo),
            revenue_upper=float(r_hi),
            conversions_lower=float(c_lo),
            conversions_upper=float(c_hi),
            marginal_roi=float(grad[i]),
            value_per_conversion=model.curves[i].value_per_conversion,
            binding=tuple(line_binding[i]),
            p_marginal_roi_below_1=_p_marginal_roi_below_1(model, i, x_opt[i], samples.get(k)),
            alternatives=_line_alternatives(model, bounds, i, rev, spend, baseline_label),
        )
        out.append(line)
    return tuple(out)


def _p_marginal_roi_below_1(
    model: _PlanCurves, i: int, amount: float, samples: list[ResponseCurve] | None
) -> float:
    """Share of the sampled curves on which the next euro on line ``i`` returns under 1 EUR
    (the derivative by difference, as the optimiser's own gradient)."""
    if not samples:
        return math.nan
    h = max(1e-4, 1e-7 * model.scale)
    lo = amount - h if amount - h >= 0 else amount
    idx, carry, days, tail = model.index[i], model.carry_in[i], model.days, model.tail
    below = [
        (
            period_revenue(s, amount + h, idx, carry, days, tail)[1]
            - period_revenue(s, lo, idx, carry, days, tail)[1]
        )
        / (amount + h - lo)
        < 1.0
        for s in samples
    ]
    return float(np.mean(below))


def _line_alternatives(
    model: _PlanCurves,
    bounds: PlanBounds,
    i: int,
    rev: float,
    spend: float,
    baseline_label: str,
) -> tuple[Alternative, ...]:
    """This line alone at last period's amount and at an even share of the plan's spend."""
    k, last = bounds.keys[i], bounds.last[i]
    even = spend / len(bounds.keys)
    tol = _TOL * bounds.scale
    keep = (
        f"keep last period's {k} budget ({last:,.0f} EUR; {k} alone)"
        if baseline_label == "last period"
        else f"{k} at {baseline_label} ({last:,.0f} EUR; {k} alone)"
    )
    return tuple(
        Alternative(
            description=desc,
            amounts={k: float(a)},
            expected_revenue=model.line_revenue(i, a),
            difference=rev - model.line_revenue(i, a),
            feasible=bounds.lo[i] - tol <= a <= bounds.hi[i] + tol,
        )
        for desc, a in ((keep, last), (f"even split: {even:,.0f} EUR on {k} ({k} alone)", even))
    )


def _total_interval(per_line: list[np.ndarray]) -> tuple[float, float]:
    """5-95% interval of the plan total over bootstrap draws (draw k of every line summed)."""
    if not any(len(s) > 1 for s in per_line):
        return math.nan, math.nan
    m = min(len(s) for s in per_line if len(s) > 1)
    totals = sum(s[:m] if len(s) > 1 else np.full(m, s[0]) for s in per_line)
    lo, hi = np.percentile(totals, [5, 95])
    return float(lo), float(hi)


def _cap(per_day: float | None, days: int) -> float:
    return math.inf if per_day is None else per_day * days


def _resolve(
    channel: str,
    last: float,
    bounds: ChannelBounds,
    shift_pct: float,
    days: int,
    notes: list[str],
    baseline_label: str = "last period",
) -> tuple[float, float, str, str]:
    """A channel's allowed period range: its daily limits, narrowed by max shift where they agree."""
    b_lo, b_hi = bounds.min_eur_per_day * days, _cap(bounds.max_eur_per_day, days)
    lo, hi = b_lo, b_hi
    lo_lab = (
        f"{channel}: min {bounds.min_eur_per_day:g} EUR/day" if b_lo > 0 else "no negative spend"
    )
    hi_lab = f"{channel}: max {bounds.max_eur_per_day:g} EUR/day" if math.isfinite(b_hi) else ""
    if last > 0:
        s_lo, s_hi = last * (1 - shift_pct / 100), last * (1 + shift_pct / 100)
        if s_lo > b_hi or s_hi < b_lo:
            notes.append(
                f"{channel}: max shift {shift_pct:g}% conflicts with its daily limits; daily limits used"
            )
        else:
            if s_lo > lo:
                lo, lo_lab = s_lo, f"{channel}: max shift -{shift_pct:g}% vs {baseline_label}"
            if s_hi < hi:
                hi, hi_lab = s_hi, f"{channel}: max shift +{shift_pct:g}% vs {baseline_label}"
    return lo, hi, lo_lab, hi_lab


def _fit_total(weights: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """A starting point near the total within the bounds (proportional fill, then clip)."""
    w = np.maximum(np.asarray(weights, dtype=float), 0.0)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    x = np.clip(w * total, lo, hi)
    for _ in range(20):  # redistribute what clipping removed or added
        gap = total - x.sum()
        if abs(gap) < 1e-9:
            break
        free = (x < hi - 1e-12) if gap > 0 else (x > lo + 1e-12)
        if not free.any():
            break
        x = np.clip(x + gap * free / free.sum(), lo, hi)
    return x


def _violations(
    x: np.ndarray, bounds: PlanBounds, policy: BudgetPolicy, model: _PlanCurves
) -> list[str]:
    """Which limits a plan breaks (empty when feasible), in words."""
    total, fixed_total = bounds.total, bounds.fixed_total
    revenue, conversions = model.revenue, model.conversions
    scale = max(total, 1.0)
    tol = 1e-5 * scale
    out = []
    for i, k in enumerate(bounds.keys):
        if x[i] < bounds.lo[i] - tol:
            out.append(f"{k} below its minimum {bounds.lo[i]:,.0f} EUR")
        if x[i] > bounds.hi[i] + tol:
            out.append(f"{k} above its maximum {bounds.hi[i]:,.0f} EUR")
    for g in bounds.groups:
        s = x[g.members].sum()
        if s < g.lo - tol or s > g.hi + tol:
            out.append(f"channel total outside {g.lo:,.0f}-{g.hi:,.0f} EUR")
    if fixed_total and abs(x.sum() - total) > tol:
        out.append(f"spends {x.sum():,.0f} EUR instead of the total {total:,.0f}")
    if not fixed_total and x.sum() > total + tol:
        out.append(f"spends {x.sum():,.0f} EUR, above the ceiling {total:,.0f}")
    if policy.target_roas is not None and revenue(x) < policy.target_roas * x.sum() - 1e-6 * scale:
        out.append(f"ROAS below target {policy.target_roas:g}")
    if (
        policy.target_cpa is not None
        and x.sum() > policy.target_cpa * conversions(x) + 1e-6 * scale
    ):
        out.append(f"CPA above target {policy.target_cpa:g} EUR")
    if policy.objective == "min_spend":
        if policy.target_conversions is not None:
            if conversions(x) < policy.target_conversions * (1 - 1e-6):
                out.append("expected conversions below target")
        elif revenue(x) < (policy.target_revenue or 0.0) - 1e-6 * scale:
            out.append("expected revenue below target")
    return out
