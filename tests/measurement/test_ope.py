"""Off-policy evaluation: a hand-computable example, and on a log from the simulator the
estimates of a target policy cover what running that policy in the simulator measures."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing_ops.config import data_home
from marketing_ops.measurement import (
    decision_outcomes,
    deterministic_policy,
    estimate_policy_value,
    logged_content_decisions,
    ope_gate,
)
from marketing_ops.simulator import SEGMENTS, WorldConfig, generate_history, simulate_outcomes
from marketing_ops.simulator.world import build_world

# Two audiences u, v; two assets a, b. The logging policy sends a or b with the propensities
# below; the target policy always sends b.
HAND = pd.DataFrame(
    [
        ("u", "a", 0.5, 1.0),
        ("u", "b", 0.5, 0.0),
        ("v", "a", 0.8, 1.0),
        ("v", "b", 0.2, 1.0),
    ],
    columns=["context", "action", "propensity", "reward"],
)


def test_estimators_on_a_hand_computed_example() -> None:
    """Weights pi/mu are (0, 2, 0, 5).
    IPS = (0 + 2*0 + 0 + 5*1) / 4 = 1.25;  SNIPS = 5 / (2 + 5) = 5/7.
    DR with the cell means as the model (q(u,b) = 0, q(v,b) = 1, no shrinkage):
    rows give 0 + 2*(0-0), 0, 1 + 0, 1 + 5*(1-1) -> (0 + 0 + 1 + 1) / 4 = 0.5,
    which is the true value of "always b" (u never clicks on b, v always does)."""
    est = estimate_policy_value(
        HAND, deterministic_policy({"u": "b", "v": "b"}), n_boot=50, prior_strength=0.0
    )
    assert est["ips"].value == pytest.approx(1.25)
    assert est["snips"].value == pytest.approx(5 / 7)
    assert est["dr"].value == pytest.approx(0.5)
    for e in est.values():
        assert e.lower <= e.upper and e.n == 4


def test_gate_needs_the_lower_bound_to_win() -> None:
    """A candidate whose point estimate beats the current value but whose interval does not
    is refused; one whose lower bound beats it is promoted."""
    est = estimate_policy_value(HAND, deterministic_policy({"u": "b", "v": "b"}), n_boot=200)
    assert not ope_gate(est, current_value=est["dr"].value - 1e-9).promote
    assert ope_gate(est, current_value=est["dr"].lower - 0.01).promote


def test_bad_propensities_are_refused() -> None:
    bad = HAND.assign(propensity=[0.5, 0.0, 0.8, 0.2])
    with pytest.raises(ValueError, match="propensity"):
        estimate_policy_value(bad, deterministic_policy({"u": "b"}))


ASSETS = ["A001", "A004", "A007", "A010"]  # approved email assets of the simulated catalogue
PROBS = [0.55, 0.25, 0.12, 0.08]
START = date(2025, 3, 1)
DAYS = 40


def _run(home, first: date, days: int, choose, tag: str) -> pd.DataFrame:
    """Run content choices through the simulator day by day; measure each decision's clicks
    per send with the product's outcome join (email events tagged with the decision id)."""
    executed = []
    for d in range(days):
        day = first + timedelta(days=d)
        rows = []
        for s in SEGMENTS:
            asset, p = choose(s)
            rows.append(
                {
                    "decision_id": f"D-{tag}-{day:%Y%m%d}-{s}",
                    "batch_id": f"B-{tag}",
                    "action_type": "content_selection",
                    "channel": "email",
                    "campaign_id": None,
                    "audience_id": s,
                    "asset_id": asset,
                    "scheduled_for": f"{day.isoformat()}T10:00:00",
                    "amount": np.nan,
                    "expected_revenue": np.nan,
                    "propensity": p,
                    "status": "executed",
                    "rationale": "{}",
                }
            )
        simulate_outcomes(home, pd.DataFrame(rows), day, 1)
        executed += rows
    decisions = pd.DataFrame(executed)
    events = pd.concat(
        pd.read_csv(home.inbox / "email_events" / f"email_events_{first + timedelta(days=d)}.csv")
        for d in range(days)
    )
    kpis = pd.DataFrame(
        {
            "date_day": [first + timedelta(days=days - 1)],
            "channel": ["email"],
            "spend": [0.0],
            "conversions": [0.0],
            "revenue": [0.0],
        }
    )
    outcomes = decision_outcomes(decisions, kpis, None, events)
    return logged_content_decisions(decisions, outcomes)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    home = data_home(tmp_path_factory.mktemp("ope")).ensure()
    cfg = WorldConfig(seed=7, start=START, days=3, contacts=900, traffic_scale=0.001)
    generate_history(home, cfg)
    rng = np.random.default_rng(7)
    # the logging policy favours a different asset in each audience
    logging = {
        s: {a: PROBS[(j - i) % len(ASSETS)] for j, a in enumerate(ASSETS)}
        for i, s in enumerate(SEGMENTS)
    }

    def mu(s):
        a = str(rng.choice(ASSETS, p=[logging[s][x] for x in ASSETS]))
        return a, logging[s][a]

    log = _run(home, START + timedelta(days=3), DAYS, mu, "log")
    # target: in each audience the asset the logging policy sent only 12% of the time
    target = {s: next(a for a, p in logging[s].items() if p == 0.12) for s in SEGMENTS}
    on_policy = _run(
        home, START + timedelta(days=3 + DAYS), DAYS, lambda s: (target[s], 1.0), "tgt"
    )
    truth = build_world(cfg).asset_rates
    return log, target, on_policy, truth


def test_estimates_cover_the_value_measured_by_running_the_policy(simulated) -> None:
    """IPS, SNIPS and DR estimates of the target policy, from the logging policy's 240
    decisions, each hold (95% bootstrap interval) the mean clicks per send measured by
    running the target policy itself for 40 more days in the same world."""
    log, target, on_policy, _ = simulated
    assert len(log) == DAYS * len(SEGMENTS) and log["propensity"].between(0.08, 0.55).all()
    measured = float(on_policy["reward"].mean())
    est = estimate_policy_value(log, deterministic_policy(target), n_boot=400, level=0.95)
    for name, e in est.items():
        assert e.lower <= measured <= e.upper, (name, e, measured)
    # the interval is informative: narrower than the spread of click rates itself
    assert est["dr"].upper - est["dr"].lower < 0.5 * measured


def test_gate_promotes_the_truly_better_policy_and_refuses_the_worse(simulated) -> None:
    """Against the logging policy's own value, the gate promotes the best asset per audience
    (by the simulator's hidden click rates) and refuses the worst."""
    log, _, _, truth = simulated
    current = float(log["reward"].mean())
    best = {s: max(ASSETS, key=lambda a, s=s: truth[s][a][1]) for s in SEGMENTS}
    worst = {s: min(ASSETS, key=lambda a, s=s: truth[s][a][1]) for s in SEGMENTS}
    assert ope_gate(estimate_policy_value(log, deterministic_policy(best)), current).promote
    assert not ope_gate(estimate_policy_value(log, deterministic_policy(worst)), current).promote
