"""Power and duration against their closed forms."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from marketing_ops.experiments import (
    audience_standard_error,
    did_standard_error,
    minimum_detectable_effect,
    minimum_periods,
    power,
    power_curve,
)


def test_power_at_zero_effect_is_the_false_positive_rate():
    assert power(0.0, 3.0, alpha=0.05) == pytest.approx(0.05, abs=1e-12)


def test_two_sample_sample_size_formula_gives_the_target_power():
    """n per arm = 2 sd^2 (z_{1-a/2} + z_{power})^2 / delta^2 is the textbook two-sample size;
    at that n the design's power is the target (up to the wrong-sign tail, < 1e-6 here)."""
    sd, delta = 4.0, 0.5
    n = 2 * sd**2 * (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 / delta**2
    se_mean_difference = audience_standard_error(sd, round(n), round(n)) / round(n)
    assert power(delta, se_mean_difference) == pytest.approx(0.8, abs=2e-3)
    assert minimum_detectable_effect(sd * math.sqrt(2 / n)) == pytest.approx(delta, rel=1e-9)


def test_minimum_periods_matches_the_closed_form():
    """effect p / (sigma sqrt(1/pre + 1/p) p) >= z_a + z_b  <=>  p >= 1 / ((e / (s z))^2 - 1/pre)."""
    effect, sigma, pre = 60.0, 100.0, 52
    z = norm.ppf(0.975) + norm.ppf(0.8)
    exact = 1 / ((effect / (sigma * z)) ** 2 - 1 / pre)
    assert minimum_periods(effect, sigma, pre) == math.ceil(exact)
    assert minimum_periods(1.0, sigma, pre, max_periods=52) is None  # never detectable


def test_power_curve_rises_with_the_effect_and_se_with_the_window():
    curve = power_curve(np.linspace(0, 500, 11), standard_error=100.0)
    assert np.all(np.diff(curve["power"]) > 0)
    assert curve["power"].iloc[-1] > 0.99
    assert did_standard_error(10.0, 52, 8) > did_standard_error(10.0, 52, 4)  # total lift SE
    assert did_standard_error(10.0, 0, 8) == math.inf
