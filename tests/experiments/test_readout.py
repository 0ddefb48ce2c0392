"""A geo holdout read out, quality-checked and handed to the model's calibration."""

from dataclasses import replace

from marketing_ops.experiments import (
    ReadoutRules,
    calibration_input,
    experiment_rows,
    geo_readout,
)
from marketing_ops.forecasting.mmm import mmm_data, read_experiments

from .world import national


def model_data(geo_test):
    frame = national(geo_test.observed, geo_test.before.spend_columns)
    return mmm_data(frame, "revenue", geo_test.before.spend_columns, "W", ["price", "promo"])


def test_difference_in_differences_recovers_the_holdouts_true_lift(geo_test):
    r = geo_readout(geo_test.observed, geo_test.design, "revenue")
    assert r.problems == ()
    assert abs(r.lift - geo_test.true_lift) < 3 * r.standard_error
    assert r.standard_error < 0.5 * geo_test.true_lift  # a test that says something
    lo, hi = r.interval
    assert lo < r.lift < hi


def test_the_readout_reaches_the_model_as_a_calibration_row(geo_test, tmp_path):
    r = geo_readout(geo_test.observed, geo_test.design, "revenue")
    accepted, verdicts = calibration_input([r], [geo_test.design], model_data(geo_test))
    assert [v.accepted for v in verdicts] == [True], verdicts[0].reason
    e = accepted[0]
    assert (e.channel, e.kind, e.lift) == (geo_test.design.channel, "geo", r.lift)
    assert e.spend_delta == geo_test.design.spend_removed > 0  # the data hold the lower spend
    path = tmp_path / "experiments.csv"
    experiment_rows(accepted).to_csv(path, index=False)
    assert read_experiments(path) == accepted  # the docs/contracts.md format, round trip


def test_low_quality_readouts_are_rejected_from_calibration_with_the_reason(geo_test):
    good = geo_readout(geo_test.observed, geo_test.design, "revenue")
    strict = ReadoutRules(max_relative_se=0.01)  # asks for an SE under 1 % of the lift
    noisy = replace(
        geo_readout(geo_test.observed, geo_test.design, "revenue", strict), design="noisy"
    )
    contradicting = replace(good, design="contradicting", lift=good.lift * 25)
    designs = [
        replace(geo_test.design, name="noisy"),
        replace(geo_test.design, name="contradicting", start=geo_test.design.start),
    ]
    _, verdicts = calibration_input([noisy, contradicting], designs, model_data(geo_test))
    assert not verdicts[0].accepted and verdicts[0].reason.startswith("inconclusive: SE")
    assert not verdicts[1].accepted
    assert "disagrees with the prior predictive" in verdicts[1].reason
