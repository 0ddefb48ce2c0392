"""The media mix model: recovery through over-claiming platforms, convergence gating,
calibration by experiments (and their rejection), weekly data end to end, clear CSV errors.

Fits are short NUTS runs on small seeded weekly worlds, shared per module."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import jax
import numpy as np
import pandas as pd
import pytest

from marketing_ops.forecasting.mmm import (
    Experiment,
    SamplerSettings,
    calibrated_fit,
    channel_summary,
    check_experiments,
    fit_csv,
    fit_mmm,
    load_csv,
    mmm_data,
    plan_response_draws,
    read_experiments,
)
from marketing_ops.forecasting.mmm.budget import _allocate
from marketing_ops.forecasting.mmm.data import base_features
from marketing_ops.forecasting.mmm.model import Priors, _segments, model_inputs
from marketing_ops.forecasting.mmm.report import write_report
from marketing_ops.forecasting.mmm.transforms import lagged
from marketing_ops.simulator.mmm_worlds import (
    MMMWorldConfig,
    lift_tests,
    make_mmm_world,
    read_ground_truth,
    truth_roas,
)

SAMPLER = SamplerSettings(warmup=300, draws=300, chains=2, seed=0)
PRIORS = Priors(time_varying=False)


@pytest.fixture(scope="module")
def world():
    return make_mmm_world(MMMWorldConfig(seed=3, freq="W", periods=156, channels=3, noise=0.03))


@pytest.fixture(scope="module")
def data(world):
    return mmm_data(world.frame, "revenue", world.spend_columns, "W", controls=["price", "promo"])


@pytest.fixture(scope="module")
def fitted(data):
    return fit_mmm(data, PRIORS, SAMPLER)


def _rel_error(estimate: dict, truth: dict) -> float:
    return float(np.mean([abs(estimate[c] / truth[c] - 1) for c in truth]))


def test_roas_recovered_better_than_platform_reports(world, fitted):
    """Platforms over-claim (1.3-2.5x plus part of the base); the MMM sees through it."""
    summary = channel_summary(fitted).set_index("channel")
    mmm = _rel_error(summary["roas"].to_dict(), world.roas)
    platform = _rel_error(world.platform_roas(), world.roas)
    assert fitted.diagnostics.ok, fitted.diagnostics.reasons
    assert mmm < 0.5 * platform, (mmm, platform)
    assert (summary["roas_lo"] < summary["roas_hi"]).all()


def test_budget_on_posterior_beats_platform_shares(world, fitted):
    """A plan split by the MMM's posterior earns more true revenue than one split by reported ROAS."""
    from marketing_ops.forecasting.mmm import budget_plan
    from marketing_ops.simulator.mmm_worlds import true_incremental

    total, periods = world.frame[world.spend_columns].sum(axis=1).iloc[-8:].sum(), 8
    plan = budget_plan(fitted, total, periods).set_index("channel")["spend"]
    reported = pd.Series(world.platform_roas())
    naive = reported / reported.sum() * total  # spend where platforms claim most

    def true_revenue(split: pd.Series) -> float:
        out = 0.0
        for ch in world.channels:
            hist = world.frame[ch.name].to_numpy()[None, :]
            path = np.concatenate([hist, np.full((1, periods), split[ch.name] / periods)], axis=1)
            out += true_incremental(ch, path, "W")[0, -periods:].sum()
        return out

    assert true_revenue(plan) > true_revenue(naive)
    assert plan.sum() == pytest.approx(total)


def test_non_converged_fit_is_flagged(data):
    """Five draws cannot converge: the verdict says so, with its reasons, so a decision can
    block. The fit that failed at the capped tree depth was sampled once more at the retry
    depth, then from a new seed (``retry_seeds``), and its diagnostics say so; without a
    retry depth it is not."""
    fit = fit_mmm(data, PRIORS, SamplerSettings(warmup=5, draws=5, chains=2))
    d = fit.diagnostics
    assert not d.ok
    assert any("R-hat" in r or "effective sample size" in r for r in d.reasons)
    assert d.tree_depth == 8 and d.first_attempt and d.attempts == 3
    assert any("R-hat" in r or "effective sample size" in r for r in d.first_attempt)
    assert d.as_dict()["first_attempt"] == list(d.first_attempt)
    assert d.as_dict()["attempts"] == 3
    settings = SamplerSettings(warmup=5, draws=5, chains=2, retry_seeds=0)
    assert fit_mmm(data, PRIORS, settings).diagnostics.attempts == 2
    once = fit_mmm(data, PRIORS, SamplerSettings(warmup=5, draws=5, chains=2, retry_tree_depth=0))
    assert once.diagnostics.tree_depth == 6 and once.diagnostics.first_attempt == ()
    assert not once.diagnostics.ok and once.diagnostics.attempts == 1


def test_a_further_attempt_starts_from_a_new_seed(data, monkeypatch):
    """The attempts after the deeper retry sample from new seeds (the same seed would draw the
    same chains again), and the first attempt that passes is the one kept."""
    from marketing_ops.forecasting.mmm import fit as fit_module

    seen, real = [], fit_module._sample

    def sample(inputs, priors, sampler, thresholds):
        seen.append((sampler.max_tree_depth, sampler.seed))
        draws, diagnostics = real(inputs, priors, sampler, thresholds)
        # every sampling fails the gate (all draws divergent) until the fourth passes it
        if len(seen) < 4:
            return draws, replace(diagnostics, divergences=diagnostics.draws)
        return draws, replace(diagnostics, max_rhat=1.0, min_ess=1e3, divergences=0)

    monkeypatch.setattr(fit_module, "_sample", sample)
    settings = SamplerSettings(warmup=5, draws=5, chains=2, seed=7, retry_seeds=3)
    d = fit_mmm(data, PRIORS, settings).diagnostics
    assert seen == [(6, 7), (8, 7), (8, 1007), (8, 2007)]
    assert d.ok and d.attempts == 4 and d.first_attempt


def test_compiled_programs_are_released_near_the_memory_map_limit():
    """JAX's compiled programs are dropped only when the process holds more than the given
    share of the kernel's memory-map limit (a process that fits many times would otherwise
    reach it and crash in LLVM)."""
    import jax
    import jax.numpy as jnp

    from marketing_ops.forecasting.mmm.fit import memory_maps_in_use, release_compiled_programs

    used, limit = memory_maps_in_use()
    assert 0 < used < limit
    double = jax.jit(lambda v: v * 2)
    double(jnp.ones(3))
    assert double._cache_size() == 1
    assert not release_compiled_programs(share=1.0)  # never above the whole limit
    assert double._cache_size() == 1
    assert release_compiled_programs(share=0.0)
    assert double._cache_size() == 0


def test_a_converged_fit_is_not_sampled_again(fitted):
    """A fit that passed the gate at the capped depth keeps those draws: no retry."""
    assert fitted.diagnostics.ok
    assert fitted.diagnostics.tree_depth == 6 and fitted.diagnostics.first_attempt == ()


def _experiment(world, channel, start, periods, lift_scale=1.0, rel_se=0.1, name="t") -> Experiment:
    row = lift_tests(world, channel, start, periods, rel_se=rel_se, bias=lift_scale)
    return Experiment(
        channel,
        pd.Timestamp(row["start"]),
        pd.Timestamp(row["end"]),
        "holdout",
        row["lift"],
        row["standard_error"],
        holdout_share=1.0,
        name=name,
    )


def test_contradicting_experiment_moves_posterior(world, data, fitted):
    """A test saying the channel earns twice what the model thinks pulls its ROAS up."""
    before = channel_summary(fitted).set_index("channel").loc["search", "roas"]
    exp = _experiment(world, "search", 60, 8, lift_scale=2.0, rel_se=0.05)
    fit, verdicts = calibrated_fit(data, [exp], PRIORS, SAMPLER)
    assert verdicts[0].accepted, verdicts[0].reason
    after = channel_summary(fit).set_index("channel").loc["search", "roas"]
    assert after > before * 1.25, (before, after)


def test_a_test_before_a_break_no_longer_sets_the_response_after_it():
    """Search's response halves at week 32 of 50, inside the model's last half-year effect
    segment (weeks 24-49). A precise holdout of weeks 24-31 measured the response before the
    halving: taken as it is, it pulls the fitted contribution after the break to about twice
    the truth (the segment's one level is today's). With the break known (the product finds
    it in measured conversions, tests/measurement/test_drift.py), the segment is split there
    and search's step at it is wide: the test sets the level before the break, and the fitted
    contribution after it comes back near the truth."""
    from marketing_ops.forecasting.mmm.posterior import contribution_draws
    from marketing_ops.measurement.drift import ResponseBreak
    from marketing_ops.simulator.mmm_worlds import true_incremental

    shocked = make_mmm_world(
        MMMWorldConfig(seed=3, freq="W", periods=50, channels=3, noise=0.03, shock=True)
    )
    data = mmm_data(
        shocked.frame, "revenue", shocked.spend_columns, "W", controls=["price", "promo"]
    )
    search = shocked.channels[1]
    assert search.name == "search" and search.shock_from == 32 and search.shock_multiplier == 0.5
    assert model_inputs(data, Priors()).segment[24:].tolist() == [1] * 26
    spend = shocked.frame["search"].to_numpy()[None, :]
    truth = true_incremental(search, spend, "W")[:, 32:].sum()
    exp = _experiment(shocked, "search", 24, 7, rel_se=0.05, name="before the halving")
    brk = ResponseBreak("search", data.dates[32].date(), -0.5, 1e-9, "search -50 %")
    after = {}
    for label, priors, breaks in (
        ("as if nothing changed", Priors(), None),
        ("break known", Priors(breaks=(("search", str(brk.day)),)), {"search": brk}),
    ):
        fit, (verdict,) = calibrated_fit(data, [exp], priors, SAMPLER, breaks=breaks)
        assert verdict.accepted, verdict.reason  # the split gives the test its own level
        draws = contribution_draws(fit, n_draws=200)[:, 0, 32:, 1].sum(axis=1)
        after[label] = float(np.median(draws)) / truth
    assert after["as if nothing changed"] > 1.8, after
    assert after["break known"] < 1.6, after
    assert after["break known"] < 0.7 * after["as if nothing changed"], after


def test_bad_experiments_rejected_with_reasons(world, data):
    good = _experiment(world, "search", 60, 8, name="good")
    bad = [
        Experiment(
            "radio", good.start, good.end, "holdout", 1e4, 1e3, holdout_share=1.0, name="unknown"
        ),
        Experiment(
            "search",
            good.start,
            good.start + pd.Timedelta(days=6),
            "holdout",
            1e4,
            1e3,
            holdout_share=1.0,
        ),
        Experiment("search", good.start, good.end, "holdout", good.lift, 0.0, holdout_share=1.0),
        Experiment(
            "search",
            good.start,
            good.end,
            "holdout",
            -5 * good.standard_error,
            good.standard_error,
            holdout_share=1.0,
        ),
        Experiment(
            "search", good.start, good.end, "holdout", good.lift, good.lift * 50, holdout_share=1.0
        ),
        Experiment(
            "search",
            good.start,
            good.end,
            "holdout",
            good.lift * 1e4,
            good.standard_error,
            holdout_share=1.0,
        ),
        Experiment(
            "search",
            good.start + pd.Timedelta(days=7),
            good.end,
            "holdout",
            good.lift,
            good.standard_error * 2,
            holdout_share=1.0,
            name="overlapping",
        ),
    ]
    verdicts = check_experiments([good, *bad], data, PRIORS)
    assert verdicts[0].accepted, verdicts[0].reason
    reasons = [v.reason for v in verdicts[1:]]
    assert not any(v.accepted for v in verdicts[1:])
    for expected, reason in zip(
        [
            "not in the model",
            "too short",
            "standard error",
            "negative lift",
            "underpowered",
            "prior predictive",
            "overlaps",
        ],
        reasons,
        strict=True,
    ):
        assert expected in reason, reasons


def test_weekly_csv_end_to_end(world, tmp_path):
    """CSV in (weekly, with an experiments file), summary, budget plan and page out."""
    csv = tmp_path / "data.csv"
    world.frame.rename(columns={"date": "week"}).to_csv(csv, index=False)
    row = lift_tests(world, "social", 80, 6, rel_se=0.15)
    pd.DataFrame([row]).drop(columns="true_lift").to_csv(tmp_path / "tests.csv", index=False)
    result = fit_csv(
        csv,
        kpi="revenue",
        spend=world.spend_columns,
        freq="W",
        controls=["price"],
        experiments=tmp_path / "tests.csv",
        # short chains, not sampled again when they miss the gate: the CSV path is tested here
        sampler=SamplerSettings(warmup=100, draws=100, retry_tree_depth=0),
        priors=Priors(),
        budget=50_000.0,
    )
    assert result.fit.data.freq == "W" and result.fit.data.window == 10
    assert [v.accepted for v in result.verdicts] == [True]
    assert set(result.summary.channel) == set(world.spend_columns)
    assert result.plan.spend.sum() == pytest.approx(50_000.0)
    assert set(result.counterfactual.multiplier) == {0.5, 1.5}
    assert result.curves.groupby("channel").is_current.sum().eq(1).all()  # marked on the chart
    page = write_report(result, tmp_path / "page")
    assert {"contributions.png", "curves.png", "waterfall.png"} <= {
        p.name for p in page.parent.iterdir()
    }
    assert "Diagnostics" in page.read_text()


def test_plan_response_includes_carry_over(fitted):
    draws = plan_response_draws(
        fitted, {c: np.array([0.0, 1e4, 4e4]) for c in fitted.data.channels}, 4
    )
    for d in draws.values():
        assert (d.carry_in >= 0).all()
        inc = d.incremental().mean(axis=0)
        assert inc[0] == pytest.approx(0.0, abs=1e-6) and inc[1] < inc[2]
    assert draws["tv"].carry_in.mean() > 0  # tv carries over for weeks


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: f.assign(tv=f.tv.astype(object).where(f.index != 3, "n/a")),
            "line 5: field 'tv' = 'n/a' is not a number",
        ),
        (lambda f: f.drop(columns="search"), "column(s) ['search'] not found"),
        (
            lambda f: f.assign(date=f.date.astype(str).where(f.index != 0, "soon")),
            "line 2: field 'date' = 'soon' is not a date",
        ),
        (
            lambda f: f.assign(social=f.social.where(f.index != 7, -1.0)),
            "line 9: field 'social' = '-1.0' is negative",
        ),
        (lambda f: pd.concat([f, f.iloc[[4]]]), "repeats an earlier row"),
        (lambda f: f.drop(index=[10]), "not a regular W series"),
        (
            lambda f: f.assign(revenue=f.revenue.astype(object).where(f.index != 2, "")),
            "line 4: field 'revenue' = '' is empty",
        ),
    ],
)
def test_bad_csv_gets_clear_error(world, tmp_path, edit, message):
    csv = tmp_path / "bad.csv"
    edit(world.frame.copy()).to_csv(csv, index=False)
    with pytest.raises(ValueError) as err:
        load_csv(csv, "revenue", ["tv", "search", "social"], "W")
    assert str(csv) in str(err.value) and message in str(err.value)


def test_experiment_file_errors_name_line_and_field(tmp_path):
    path = tmp_path / "tests.csv"
    path.write_text(
        "channel,start,end,kind,lift,standard_error,holdout_share\ntv,2024-01-01,2024-02-01,holdout,12,x,1\n"
    )
    with pytest.raises(ValueError, match="line 2: field 'standard_error' = 'x' is not a number"):
        read_experiments(path)


def test_lagged_spend_carries_history():
    spend = np.arange(1, 6, dtype=float)[:, None]
    out = lagged(spend, 3, before=np.array([[9.0], [8.0]]))
    assert out[0, :, 0].tolist() == [1.0, 8.0, 9.0]  # before[-1] is the period just before
    assert out[4, :, 0].tolist() == [5.0, 4.0, 3.0]


@pytest.mark.parametrize(("freq", "periods", "seasonal_cols"), [("D", 400, 14), ("W", 60, 6)])
def test_base_features_follow_frequency(freq, periods, seasonal_cols):
    dates = pd.date_range("2024-01-01", periods=periods, freq="D" if freq == "D" else "W-MON")
    trend, seasonal, holidays = base_features(dates, freq)
    assert seasonal.shape == (periods, seasonal_cols)
    assert abs(trend.mean()) < 0.01
    bf = pd.Timestamp(date(2024, 11, 29))
    hit = np.flatnonzero(holidays.sum(axis=1))
    assert any(dates[i] <= bf < dates[i] + pd.Timedelta(days=1 if freq == "D" else 7) for i in hit)


def test_segments_end_with_a_full_segment():
    seg = _segments(10, 4)
    assert seg.tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]


def test_a_short_leading_stub_joins_the_next_segment():
    """Fewer than half a segment's periods at the start would be a near-free walk step."""
    assert _segments(9, 4).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert _segments(4, 4).tolist() == [0, 0, 0, 0]


def test_a_break_splits_the_segment_it_falls_in():
    """A detected break starts a segment when both parts keep an eighth of a segment's
    periods (the current effect is then the level after the break); near a boundary it is
    left to the boundary. Dated breaks map to the first period on or after them."""
    assert _segments(16, 8, [13]).tolist() == [0] * 8 + [1] * 5 + [2] * 3
    assert _segments(16, 8, [15]).tolist() == [0] * 8 + [1] * 8  # one period after: no split
    assert _segments(16, 8, [9]).tolist() == [0] * 8 + [1] * 8  # one period before: no split
    assert _segments(16, 8, [4]).tolist() == [0] * 4 + [1] * 4 + [2] * 8
    dates = pd.date_range("2024-01-01", periods=407, freq="D")
    data = mmm_data(pd.DataFrame({"date": dates, "kpi": 100.0, "tv": 10.0}), "kpi", ["tv"], "D")
    x = model_inputs(data, Priors(breaks=(("tv", str(dates[365].date())),)))
    assert np.bincount(x.segment).tolist() == [225, 140, 42]
    assert np.bincount(model_inputs(data, Priors()).segment).tolist() == [225, 182]
    # the broken channel's step at the break is wide, the others' steps are not
    wide = Priors().break_sigma / Priors().tv_sigma
    assert x.step_scale.tolist() == [[1.0], [wide]]
    assert model_inputs(data, Priors()).step_scale.tolist() == [[1.0]]
    # a break one day before a boundary does not split; the boundary keeps its usual step
    years = pd.date_range("2024-01-01", periods=730, freq="D")
    two = mmm_data(pd.DataFrame({"date": years, "kpi": 100.0, "tv": 1.0}), "kpi", ["tv"], "D")
    y = model_inputs(two, Priors(breaks=(("tv", str(years[365].date())), ("radio", "2024-02-01"))))
    assert np.bincount(y.segment).tolist() == [184, 182, 182, 182]
    assert y.step_scale[:, 0].tolist() == [1.0, 1.0, 1.0]


def test_two_daily_years_have_four_half_year_effect_segments():
    dates = pd.date_range("2024-01-01", periods=730, freq="D")
    frame = pd.DataFrame({"date": dates, "kpi": 100.0, "tv": 10.0})
    x = model_inputs(mmm_data(frame, "kpi", ["tv"], "D"), Priors())
    assert x.segment.max() + 1 == 4 and (x.segment == 3).sum() == 182


def test_a_channel_of_nominal_cost_keeps_a_prior_it_can_reach():
    # 100 KPI a day; tv costs 1,000 a day, email a fifth of a cent per send (2 a day)
    dates = pd.date_range("2024-01-01", periods=56, freq="D")
    frame = pd.DataFrame({"date": dates, "kpi": 100.0, "tv": 1000.0, "email": 2.0})
    data = mmm_data(frame, "kpi", ["tv", "email"], "D")
    kpi = 100.0 * 56
    # the shared median: media_share of the KPI over all spend, so tv's prior contribution
    # is its spend share of the media share (0.3 x 1000 / 1002 of the KPI)
    shared = Priors().media_share * kpi / (1002.0 * 56)
    roi = model_inputs(data, Priors()).roi_median
    assert roi[0] == pytest.approx(shared)
    # email's would be 0.06 % of the KPI; it is raised to min_channel_share (1 %) of it
    assert roi[1] * 2.0 * 56 == pytest.approx(Priors().min_channel_share * kpi)
    assert roi[1] / shared == pytest.approx(0.01 / (0.3 * 2.0 / 1002.0))  # 16.7x
    # without the floor, one median for every channel
    flat = model_inputs(data, Priors(min_channel_share=0.0)).roi_median
    assert flat.tolist() == pytest.approx([shared, shared])


def test_svi_init_starts_nearer_the_posterior_than_the_prior_median(data):
    """The variational start has a higher log joint than the prior's median per site."""
    from numpyro.infer.util import initialize_model

    from marketing_ops.forecasting.mmm.fit import _init_strategy
    from marketing_ops.forecasting.mmm.model import mmm_model

    x = model_inputs(data, PRIORS)
    energy = {}
    for init in ("median", "svi"):
        strategy = _init_strategy(x, PRIORS, SamplerSettings(init=init, svi_steps=300))
        info = initialize_model(
            jax.random.PRNGKey(0), mmm_model, init_strategy=strategy, model_args=(x, PRIORS)
        )
        energy[init] = float(info.potential_fn(info.param_info.z))
    assert energy["svi"] < energy["median"]


def test_allocation_handles_s_shaped_curves():
    """Greedy steps stall on an S-curve's flat start; the exact split finds the best one."""
    units = np.arange(11)
    s_curve = 10 * units**3 / (units**3 + 5**3)
    linear = 0.3 * units  # a greedy first step takes linear's 0.3 over the S-curve's 0.08
    best = max(((u, 10 - u) for u in range(11)), key=lambda p: linear[p[0]] + s_curve[p[1]])
    assert _allocate(np.stack([linear, s_curve])) == list(best) == [0, 10]
    three = np.stack([linear, s_curve, 0.9 * s_curve])
    assert sum(_allocate(three)) == 10


def test_ground_truth_files_round_trip(world, tmp_path):
    world.write_ground_truth(tmp_path)
    frame, response = read_ground_truth(tmp_path)
    assert truth_roas(frame) == pytest.approx(world.roas)
    assert set(response["roas"]) == set(world.spend_columns)


def test_geo_data_fits_a_pooled_model(tmp_path):
    """A geo column makes the model hierarchical: per-geo contributions, channel ROI pooled."""
    world = make_mmm_world(MMMWorldConfig(seed=5, freq="W", periods=80, channels=2, geos=3))
    csv = tmp_path / "geo.csv"
    world.frame.to_csv(csv, index=False)
    data = load_csv(csv, "revenue", world.spend_columns, "W", geo="geo")
    fit = fit_mmm(data, PRIORS, SamplerSettings(warmup=60, draws=60, retry_tree_depth=0))
    assert data.kpi.shape == (3, 80) and fit.samples["geo_z"].shape[1:] == (3, 2)
    summary = channel_summary(fit, n_draws=50)
    assert (summary.roas > 0).all() and summary.spend.sum() == pytest.approx(
        world.frame[world.spend_columns].sum().sum()
    )
