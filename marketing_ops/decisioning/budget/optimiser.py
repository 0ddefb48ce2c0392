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

Revenue of a plan line is the expected revenue on the period's days from the channel's media:
the period amount is phased across days by the seasonal index, run through the curve with
the carried-in adstock, and summed. Carry-over *after* the period is not counted (a myopic
but conservative choice; it slightly under-values high-decay channels).
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
    "PlanLine",
    "phase_budget",
    "period_revenue",
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


def period_revenue(
    curve: ResponseCurve,
    amount: float,
    index: np.ndarray | None,
    initial_adstock: float,
    period_days: int,
) -> tuple[float, float]:
    """(conversions, revenue) the curve expects over the period for a phased amount."""
    idx = _period_index(index, period_days)
    daily = phase_budget(max(amount, 0.0), idx, period_days)
    conv = float(curve.conversions(daily, idx, initial_adstock).sum())
    return conv, conv * curve.value_per_conversion


@dataclass
class _Group:
    """A linear limit on the sum of some lines' amounts (a channel with several campaigns)."""

    label_lo: str
    label_hi: str
    members: list[int]
    lo: float
    hi: float


def plan_budget(
    curves: dict[str, ResponseCurve],
    last_period_spend: dict[str, float],
    seasonal_index: dict[str, np.ndarray],
    initial_adstock: dict[str, float],
    policy: BudgetPolicy,
    samples: dict[str, list[ResponseCurve]] | None = None,
    baseline_label: str = "last period",
) -> BudgetPlan:
    """Optimise next period's budget per plan line (curves keyed by channel or campaign id).

    A key that is not its curve's channel is a campaign of that channel: channel limits then
    apply to the sum of its campaigns, campaign limits to the line itself.
    ``last_period_spend`` is the split the max shift is measured from; ``baseline_label``
    names it in the binding constraints.
    """
    keys = sorted(curves)
    if not keys:
        raise ValueError("plan_budget needs at least one response curve")
    days = policy.period_days
    n = len(keys)
    chan = [curves[k].channel for k in keys]
    last = np.array([max(float(last_period_spend.get(k, 0.0)), 0.0) for k in keys])
    idx = [
        _period_index(seasonal_index.get(k, seasonal_index.get(chan[i])), days)
        for i, k in enumerate(keys)
    ]
    init = [
        float(initial_adstock.get(k, initial_adstock.get(chan[i], 0.0))) for i, k in enumerate(keys)
    ]
    notes: list[str] = []

    def line_rev(i: int, amount: float) -> float:
        return period_revenue(curves[keys[i]], amount, idx[i], init[i], days)[1]

    def line_conv(i: int, amount: float) -> float:
        return period_revenue(curves[keys[i]], amount, idx[i], init[i], days)[0]

    # ---- per-line bounds and multi-line channel groups, with labels for "binding" ----
    lo, hi = np.zeros(n), np.full(n, np.inf)
    lo_lab, hi_lab = ["no negative spend"] * n, [""] * n
    groups: list[_Group] = []
    for c in sorted(set(chan)):
        members = [i for i in range(n) if chan[i] == c]
        c_last = float(last[members].sum())
        bounds = policy.channels.get(c, ChannelBounds())
        rng = _resolve(c, c_last, bounds, policy.max_shift_pct, days, notes, baseline_label)
        if len(members) == 1:
            i = members[0]
            lo[i], hi[i], lo_lab[i], hi_lab[i] = rng
        else:
            groups.append(_Group(rng[2], rng[3], members, rng[0], rng[1]))
    for i, k in enumerate(keys):
        if k != chan[i] and k in policy.campaigns:
            b = policy.campaigns[k]
            c_lo, c_hi = b.min_eur_per_day * days, _cap(b.max_eur_per_day, days)
            if c_lo > lo[i]:
                lo[i], lo_lab[i] = c_lo, f"{k}: campaign min {b.min_eur_per_day:g} EUR/day"
            if c_hi < hi[i]:
                hi[i], hi_lab[i] = c_hi, f"{k}: campaign max {b.max_eur_per_day:g} EUR/day"
            if lo[i] > hi[i]:
                notes.append(
                    f"{k}: campaign limits conflict with its channel's; campaign limits used"
                )
                lo[i], hi[i] = c_lo, c_hi
        if chan[i] in policy.locked_channels:
            lo[i] = hi[i] = last[i]
            lo_lab[i] = hi_lab[i] = f"{chan[i]}: locked at last period's spend"

    # ---- total budget ----
    last_total = float(last.sum())
    total = last_total if policy.total_budget == "keep_last_period" else float(policy.total_budget)
    fixed_total = (
        policy.objective == "max_revenue"
        and policy.target_roas is None
        and policy.target_cpa is None
    )
    lo_sum, hi_sum = float(lo.sum()), float(hi.sum())
    if total < lo_sum - 1e-9:
        notes.append(
            f"total budget {total:,.0f} EUR is below the channels' minimums; planned {lo_sum:,.0f}"
        )
        total = lo_sum
    if fixed_total and total > hi_sum + 1e-9:
        notes.append(
            f"total budget {total:,.0f} EUR is above the channels' maximums; planned {hi_sum:,.0f}"
        )
        total = hi_sum
    scale = max(total, float(np.nanmax(np.where(np.isfinite(hi), hi, 0.0), initial=0.0)), 1.0)
    hi_eff = np.minimum(hi, total)  # no line can exceed the total, which also bounds the search

    def revenue(x: np.ndarray) -> float:
        return float(sum(line_rev(i, x[i]) for i in range(n)))

    def conversions(x: np.ndarray) -> float:
        return float(sum(line_conv(i, x[i]) for i in range(n)))

    def _grad(fn, x: np.ndarray) -> np.ndarray:
        g = np.empty(n)
        h = max(1e-4, 1e-7 * scale)
        for i in range(n):
            a = x[i]
            if a - h >= 0:
                g[i] = (fn(i, a + h) - fn(i, a - h)) / (2 * h)
            else:
                g[i] = (fn(i, a + h) - fn(i, a)) / h
        return g

    def revenue_grad(x: np.ndarray) -> np.ndarray:
        return _grad(line_rev, x)

    def conversions_grad(x: np.ndarray) -> np.ndarray:
        return _grad(line_conv, x)

    # ---- objective and constraints, in scaled units (z = x / scale) ----
    r_scale = max(revenue(np.clip(last, lo, hi_eff)), revenue(np.full(n, total / n)), 1.0)
    c_scale = max(conversions(np.clip(last, lo, hi_eff)), conversions(np.full(n, total / n)), 1e-6)
    if policy.objective == "min_spend":

        def obj(z: np.ndarray) -> float:
            return float(z.sum())

        def obj_jac(z: np.ndarray) -> np.ndarray:
            return np.ones(n)
    elif policy.objective == "max_profit":

        def obj(z: np.ndarray) -> float:
            x = z * scale
            return -(revenue(x) - x.sum()) / r_scale

        def obj_jac(z: np.ndarray) -> np.ndarray:
            return -(revenue_grad(z * scale) - 1.0) * scale / r_scale
    else:

        def obj(z: np.ndarray) -> float:
            return -revenue(z * scale) / r_scale

        def obj_jac(z: np.ndarray) -> np.ndarray:
            return -revenue_grad(z * scale) * scale / r_scale

    cons: list[dict] = []
    ones = np.ones(n)
    if fixed_total:
        cons.append(
            {
                "type": "eq",
                "fun": lambda z: (z.sum() * scale - total) / scale,
                "jac": lambda z: ones,
            }
        )
    else:
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (total - z.sum() * scale) / scale,
                "jac": lambda z: -ones,
            }
        )
    for g in groups:
        mask = np.zeros(n)
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
    if policy.target_roas is not None:
        roas = policy.target_roas
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (revenue(z * scale) - roas * z.sum() * scale) / r_scale,
                "jac": lambda z: (revenue_grad(z * scale) - roas) * scale / r_scale,
            }
        )
    if policy.target_cpa is not None:
        cpa = policy.target_cpa
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (cpa * conversions(z * scale) - z.sum() * scale) / scale,
                "jac": lambda z: cpa * conversions_grad(z * scale) - 1.0,
            }
        )
    if policy.objective == "min_spend" and policy.target_conversions is not None:
        target_c = float(policy.target_conversions)
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (conversions(z * scale) - target_c) / c_scale,
                "jac": lambda z: conversions_grad(z * scale) * scale / c_scale,
            }
        )
    elif policy.objective == "min_spend":
        target = float(policy.target_revenue or 0.0)
        cons.append(
            {
                "type": "ineq",
                "fun": lambda z: (revenue(z * scale) - target) / r_scale,
                "jac": lambda z: revenue_grad(z * scale) * scale / r_scale,
            }
        )
    bounds = [(lo[i] / scale, hi_eff[i] / scale) for i in range(n)]

    def feasible(x: np.ndarray) -> list[str]:
        return _violations(
            x, keys, lo, hi, groups, total, fixed_total, policy, revenue, conversions
        )

    # ---- multi-start SLSQP ----
    starts = [
        _fit_total(last if last_total > 0 else np.ones(n), lo, hi_eff, total),
        _fit_total(np.ones(n), lo, hi_eff, total),
        _fit_total(np.where(np.isfinite(hi_eff), (lo + hi_eff) / 2, lo + 1.0), lo, hi_eff, total),
    ]
    best, best_val, message = None, math.inf, "no start converged"
    for x0 in starts:
        res = minimize(
            obj,
            x0 / scale,
            jac=obj_jac,
            bounds=bounds,
            constraints=cons,
            method="SLSQP",
            options={"maxiter": 500, "ftol": 1e-12},
        )
        x = np.clip(res.x * scale, lo, hi_eff)
        if not feasible(x) and res.fun < best_val:
            best, best_val, message = x, float(res.fun), str(res.message)
    if best is None:
        # Nothing meets every limit (e.g. the target ROAS or revenue is out of reach): fall back
        # to the best revenue for the total within the hard bounds and say so.
        if fixed_total:
            raise RuntimeError(
                f"budget optimiser found no plan within the limits: {message}; {notes}"
            )
        fallback = policy.model_copy(
            update={
                "objective": "max_revenue",
                "target_roas": None,
                "target_cpa": None,
                "target_revenue": None,
                "target_conversions": None,
                "total_budget": total,
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
        note = (
            f"{why} not reachable within the limits; planned the most revenue for the total instead"
        )
        return replace(plan, objective=policy.objective, notes=(*notes, note, *plan.notes))
    x_opt = best

    # ---- alternatives: last period's split and an even split, at the plan's spend ----
    spend = float(x_opt.sum())
    alt_defs = [
        (
            "keep last period's split" if baseline_label == "last period" else baseline_label,
            (last / last_total * spend) if last_total > 0 else np.full(n, spend / n),
        ),
        ("even split across channels", np.full(n, spend / n)),
    ]
    value = (lambda x: revenue(x) - x.sum()) if policy.objective == "max_profit" else revenue
    for desc, x_alt in alt_defs:
        if (
            not feasible(x_alt)
            and policy.objective != "min_spend"
            and value(x_alt) > value(x_opt) + 1e-9
        ):
            notes.append(f"the optimiser's result was beaten by '{desc}', which is used instead")
            x_opt = x_alt
    plan_rev = revenue(x_opt)
    alternatives = tuple(
        Alternative(
            description=f"{desc} ({', '.join(f'{k} {a:,.0f}' for k, a in zip(keys, x_alt, strict=True))} EUR)",
            amounts=dict(zip(keys, map(float, x_alt), strict=True)),
            expected_revenue=revenue(x_alt),
            difference=plan_rev - revenue(x_alt),
            feasible=not feasible(x_alt),
            violations=tuple(feasible(x_alt)),
        )
        for desc, x_alt in alt_defs
    )

    # ---- binding constraints ----
    binding: list[str] = []
    line_binding: list[list[str]] = [[] for _ in range(n)]
    tol = _TOL * scale
    for i in range(n):
        if abs(x_opt[i] - lo[i]) <= tol:
            if lo_lab[i] != "no negative spend":
                line_binding[i].append(lo_lab[i])
            else:
                line_binding[i].append(
                    f"{keys[i]}: nothing (its next euro returns less than elsewhere)"
                )
        if (
            math.isfinite(hi[i])
            and abs(x_opt[i] - hi[i]) <= tol
            and hi_lab[i]
            and hi_lab[i] not in line_binding[i]
        ):
            line_binding[i].append(hi_lab[i])
    for g in groups:
        s = float(x_opt[g.members].sum())
        for label, bound in ((g.label_lo, g.lo), (g.label_hi, g.hi)):
            if label != "no negative spend" and math.isfinite(bound) and abs(s - bound) <= tol:
                for i in g.members:
                    line_binding[i].append(label)
    for lb in line_binding:
        binding.extend(b for b in lb if b not in binding)
    if fixed_total:
        binding.append(f"total budget {total:,.0f} EUR for {days} days")
    elif abs(spend - total) <= tol:
        binding.append(f"total budget ceiling {total:,.0f} EUR for {days} days")
    if policy.target_roas is not None and plan_rev <= policy.target_roas * spend * (1 + 1e-4):
        binding.append(f"target ROAS {policy.target_roas:g}")
    plan_conv = conversions(x_opt)
    if policy.target_cpa is not None and spend >= policy.target_cpa * plan_conv * (1 - 1e-4):
        binding.append(f"target CPA {policy.target_cpa:g} EUR")
    if policy.objective == "min_spend" and policy.target_conversions is not None:
        binding.append(f"target conversions {policy.target_conversions:,.0f}")
    elif policy.objective == "min_spend":
        binding.append(f"target revenue {policy.target_revenue:,.0f} EUR")

    # ---- per-line figures, intervals from bootstrap draws, marginal ROI ----
    grad = revenue_grad(x_opt)
    samples = samples or {}
    even = spend / n
    lines = []
    draw_totals: list[np.ndarray] = []
    conv_totals: list[np.ndarray] = []
    for i, k in enumerate(keys):
        conv, rev = period_revenue(curves[k], x_opt[i], idx[i], init[i], days)
        draws = [period_revenue(s, x_opt[i], idx[i], init[i], days) for s in samples.get(k, [])]
        if draws:
            d_conv = np.array([d[0] for d in draws])
            d_rev = np.array([d[1] for d in draws])
            r_lo, r_hi = np.percentile(d_rev, [5, 95])
            c_lo, c_hi = np.percentile(d_conv, [5, 95])
            draw_totals.append(d_rev)
            conv_totals.append(d_conv)
        else:
            r_lo = r_hi = c_lo = c_hi = math.nan
            draw_totals.append(np.array([rev]))
            conv_totals.append(np.array([conv]))
        line_alts = tuple(
            Alternative(
                description=desc,
                amounts={k: float(a)},
                expected_revenue=line_rev(i, a),
                difference=rev - line_rev(i, a),
                feasible=lo[i] - _TOL * scale <= a <= hi[i] + _TOL * scale,
            )
            for desc, a in (
                (
                    f"keep last period's {k} budget ({last[i]:,.0f} EUR; {k} alone)"
                    if baseline_label == "last period"
                    else f"{k} at {baseline_label} ({last[i]:,.0f} EUR; {k} alone)",
                    last[i],
                ),
                (f"even split: {even:,.0f} EUR on {k} ({k} alone)", even),
            )
        )
        lines.append(
            PlanLine(
                key=k,
                channel=chan[i],
                campaign_id=None if k == chan[i] else k,
                amount=float(x_opt[i]),
                last_amount=float(last[i]),
                daily=tuple(float(v) for v in phase_budget(x_opt[i], idx[i], days)),
                expected_conversions=conv,
                expected_revenue=rev,
                revenue_lower=float(r_lo),
                revenue_upper=float(r_hi),
                conversions_lower=float(c_lo),
                conversions_upper=float(c_hi),
                marginal_roi=float(grad[i]),
                value_per_conversion=curves[k].value_per_conversion,
                binding=tuple(line_binding[i]),
                alternatives=line_alts,
            )
        )
    p_lo, p_hi = _total_interval(draw_totals)
    pc_lo, pc_hi = _total_interval(conv_totals)
    return BudgetPlan(
        objective=policy.objective,
        period_days=days,
        lines=tuple(lines),
        total_spend=spend,
        expected_revenue=plan_rev,
        expected_conversions=float(sum(line.expected_conversions for line in lines)),
        revenue_lower=p_lo,
        revenue_upper=p_hi,
        binding_constraints=tuple(binding),
        alternatives=alternatives,
        notes=tuple(notes),
        solver=message,
        conversions_lower=pc_lo,
        conversions_upper=pc_hi,
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
    x: np.ndarray,
    keys: list[str],
    lo: np.ndarray,
    hi: np.ndarray,
    groups: list[_Group],
    total: float,
    fixed_total: bool,
    policy: BudgetPolicy,
    revenue,
    conversions,
) -> list[str]:
    """Which limits a plan breaks (empty when feasible), in words."""
    scale = max(total, 1.0)
    tol = 1e-5 * scale
    out = []
    for i, k in enumerate(keys):
        if x[i] < lo[i] - tol:
            out.append(f"{k} below its minimum {lo[i]:,.0f} EUR")
        if x[i] > hi[i] + tol:
            out.append(f"{k} above its maximum {hi[i]:,.0f} EUR")
    for g in groups:
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
