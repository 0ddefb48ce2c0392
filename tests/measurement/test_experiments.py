"""Policy experiments: reproducible assignment, SRM detection, Welch intervals, and a
stopping rule that stays valid when people peek."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marketing_ops.measurement import (
    assign_arms,
    compare_arms,
    experiment_report,
    sample_ratio_mismatch,
)

SHARES = {"current": 0.45, "challenger": 0.45, "holdout": 0.10}


def test_assignment_is_reproducible_and_follows_the_shares() -> None:
    """Same salt, same arms; another salt reshuffles; shares hold within sampling error."""
    units = [f"loyal_customers|2026-11-{d:02d}|{i}" for d in range(1, 31) for i in range(200)]
    a = assign_arms(units, SHARES, salt="exp-1")
    assert a.equals(assign_arms(units, SHARES, salt="exp-1"))
    assert (a != assign_arms(units, SHARES, salt="exp-2")).mean() > 0.4
    share = a.value_counts(normalize=True)
    for arm, s in SHARES.items():
        assert share[arm] == pytest.approx(s, abs=0.015)
    assert not sample_ratio_mismatch(a.value_counts().to_dict(), SHARES).mismatch


@pytest.mark.parametrize(
    ("counts", "mismatch"),
    [
        ({"current": 5000, "challenger": 5000}, False),
        ({"current": 5080, "challenger": 4920}, False),  # p ~ 0.11: sampling noise
        ({"current": 5300, "challenger": 4700}, True),  # p ~ 2e-9: broken assignment
        ({"current": 4500, "challenger": 4400, "holdout": 1600}, True),
    ],
)
def test_sample_ratio_mismatch_on_skewed_splits(counts, mismatch) -> None:
    """A 53/47 split of 10,000 units planned 50/50 is flagged; 50.8/49.2 is not."""
    shares = {"current": 0.5, "challenger": 0.5}
    if "holdout" in counts:
        shares = {"current": 0.45, "challenger": 0.45, "holdout": 0.10}
    check = sample_ratio_mismatch(counts, shares)
    assert check.mismatch is mismatch
    expected_p = stats.chisquare(
        list(counts.values()), [s * sum(counts.values()) for s in shares.values()]
    ).pvalue
    assert check.p_value == pytest.approx(expected_p)


def test_srm_stops_the_experiment() -> None:
    """Whatever the outcome difference, a mismatched experiment's verdict is to stop."""
    rng = np.random.default_rng(1)
    units = pd.DataFrame(
        {"arm": ["current"] * 700 + ["challenger"] * 300, "outcome": rng.normal(0, 1, 1000)}
    )
    report = experiment_report(
        units, {"current": 0.5, "challenger": 0.5}, [("challenger", "current")]
    )
    assert report["srm"].mismatch and report["verdict"].startswith("stop: sample ratio")


def test_welch_interval_matches_scipy() -> None:
    """The fixed-horizon difference, p-value and interval are Welch's."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.2, 1.0, 80), rng.normal(1.0, 2.0, 120)
    c = compare_arms(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert c.difference == pytest.approx(a.mean() - b.mean())
    assert c.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (c.ci_lower, c.ci_upper) == pytest.approx((ci.low, ci.high))
    # the always-valid interval is wider: that is the price of peeking freely
    assert c.always_valid_lower < c.ci_lower and c.always_valid_upper > c.ci_upper


def _peeking_false_positive_rates(n_experiments=300, looks=20, per_look=25, seed=3):
    rng = np.random.default_rng(seed)
    naive = valid = 0
    for _ in range(n_experiments):
        a = rng.normal(0, 1, looks * per_look)
        b = rng.normal(0, 1, looks * per_look)
        hit_naive = hit_valid = False
        for k in range(1, looks + 1):
            c = compare_arms(a[: k * per_look], b[: k * per_look])
            hit_naive |= c.p_value < 0.05
            hit_valid |= c.always_valid_p < 0.05
        naive += hit_naive
        valid += hit_valid
    return naive / n_experiments, valid / n_experiments


def test_peeking_inflates_naive_p_values_but_not_always_valid_ones() -> None:
    """A/A tests looked at 20 times: stopping at the first naive p < 0.05 declares a winner
    far more often than 5%; the mSPRT always-valid p-value stays under 5% (plus Monte Carlo
    slack of about two standard errors on 300 experiments)."""
    naive, valid = _peeking_false_positive_rates()
    assert naive > 0.15
    assert valid <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 300)


def test_always_valid_test_still_finds_a_real_effect() -> None:
    """With a real effect of 0.3 standard deviations, peeking every 50 units stops with the
    right sign in most experiments before 1,000 units per arm."""
    rng = np.random.default_rng(4)
    stopped = 0
    for _ in range(100):
        a, b = rng.normal(0.3, 1, 1000), rng.normal(0, 1, 1000)
        for n in range(50, 1001, 50):
            c = compare_arms(a[:n], b[:n])
            if c.always_valid_p < 0.05:
                stopped += c.difference > 0
                break
    assert stopped >= 80


def test_report_gives_uplift_against_holdout() -> None:
    """Both policies against the holdout and against each other, in one report."""
    rng = np.random.default_rng(5)
    arms = assign_arms([f"u{i}" for i in range(3000)], SHARES, salt="s")
    effect = arms.map({"current": 0.5, "challenger": 0.8, "holdout": 0.0}).to_numpy()
    units = pd.DataFrame({"arm": arms.to_numpy(), "outcome": effect + rng.normal(0, 1, 3000)})
    report = experiment_report(
        units,
        SHARES,
        [("current", "holdout"), ("challenger", "holdout"), ("challenger", "current")],
        peeks=[500, 1000, 2000],
    )
    cmp = report["comparisons"].set_index(["treatment", "control"])
    assert cmp.loc[("challenger", "holdout"), "difference"] == pytest.approx(0.8, abs=0.2)
    assert cmp.loc[("challenger", "current"), "ci_lower"] > 0
    assert not report["srm"].mismatch and report["verdict"].startswith("stop: every")
