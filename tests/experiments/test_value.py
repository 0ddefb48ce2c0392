"""Expected value of sample information by preposterior simulation, on known draws."""

import numpy as np
import pytest

from marketing_ops.experiments import evpi, evsi


def two_world_draws(n: int = 400):
    """Half the draws say the channel returns 2 EUR per EUR, half 0.5: spend (m = 1) or cut (m = 0)."""
    good = np.arange(n) % 2 == 0
    profit = np.column_stack([np.zeros(n), np.where(good, 1000.0, -500.0)])
    lift = np.where(good, 2000.0, 500.0)  # what a holdout would measure in each world
    return profit, lift


def test_a_sharp_test_is_worth_perfect_information_and_a_useless_one_nothing():
    profit, lift = two_world_draws()
    perfect = evpi(profit)
    assert perfect == pytest.approx(250.0)  # mean(max) 500 - max(mean) 250
    assert evsi(profit, lift, standard_error=10.0) == pytest.approx(
        perfect, rel=0.06
    )  # Monte Carlo over 2000 read-outs
    assert evsi(profit, lift, standard_error=1e6) < 0.02 * perfect


def test_evsi_grows_with_precision_and_stays_below_evpi():
    profit, lift = two_world_draws()
    values = [evsi(profit, lift, se) for se in (3000.0, 1000.0, 300.0)]
    assert values[0] < values[1] < values[2] <= evpi(profit) + 1e-9
    assert min(values) >= 0
