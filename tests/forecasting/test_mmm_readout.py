"""Lift tests read out past their end (``readout_end``): the model's lift counts the change's
carry-over after the test, the quality checks use the read-out window, the CSV carries it. A
test may report its tail alone (``lift_start`` after its end) beside its in-test row.

No fit here: the model's lift is evaluated at the seeded world's true parameters (the world
uses the model's own adstock and saturation), and the checks need only the prior predictive."""

from __future__ import annotations

from dataclasses import replace

import jax.numpy as jnp
import pandas as pd
import pytest

from marketing_ops.forecasting.mmm import (
    Experiment,
    check_experiments,
    experiment_arrays,
    mmm_data,
    read_experiments,
)
from marketing_ops.forecasting.mmm.model import Priors, _lift, model_inputs
from marketing_ops.measurement.drift import ResponseBreak
from marketing_ops.simulator.mmm_worlds import MMMWorldConfig, make_mmm_world, true_incremental

PRIORS = Priors(time_varying=False)
WEEK = pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def world():
    return make_mmm_world(MMMWorldConfig(seed=3, freq="W", periods=156, channels=3, noise=0.03))


@pytest.fixture(scope="module")
def data(world):
    return mmm_data(world.frame, "revenue", world.spend_columns, "W", controls=["price", "promo"])


def _holdout(data, channel: str, first: int, periods: int, after: int, **kw) -> Experiment:
    """Half the channel's spend held out over ``periods`` weeks, read out ``after`` more."""
    start = data.dates[first]
    end = data.dates[first + periods - 1] + pd.Timedelta(days=6)
    kw = {
        "lift": 1.0,
        "standard_error": 1.0,
        "readout_end": end + after * WEEK if after else None,
        **kw,
    }
    return Experiment(channel, start, end, "holdout", holdout_share=0.5, **kw)


def _model_lift(data, channels, exp: Experiment) -> float:
    """The model's lift of ``exp`` with the channels' true parameters."""
    scale = model_inputs(data, PRIORS).spend_scale
    x = model_inputs(data, PRIORS, experiment_arrays([exp], data, scale))
    decay = jnp.array([c.decay for c in channels])
    half = jnp.array([c.half_saturation / s for c, s in zip(channels, scale, strict=True)])
    shape = jnp.array([c.shape for c in channels])
    beta = jnp.array([[c.beta * c.geo_multipliers[0] for c in channels]])
    mult = jnp.ones((data.n_periods, len(channels)))
    return float(_lift(x, decay, half, shape, beta, mult)[0])


def _tail(exp: Experiment) -> Experiment:
    """The tail row of ``exp``: its lift read from the day after its end to its read-out's end."""
    return replace(exp, name=f"{exp.name} tail", lift_start=exp.end + pd.Timedelta(days=1))


def _true_lift(world, channel, first: int, periods: int, after: int, skip: int = 0) -> float:
    """The world's true lift of halving ``channel``'s spend over ``periods`` weeks from
    ``first``, read from ``skip`` weeks into the test to ``after`` weeks past its end."""
    spend = world.frame[channel.name].to_numpy()[None, :]
    low = spend.copy()
    low[:, first : first + periods] *= 0.5
    read = slice(first + skip, first + periods + after)
    return float(
        (true_incremental(channel, spend, "W") - true_incremental(channel, low, "W"))[:, read].sum()
    )


def test_model_lift_reads_out_the_carry_over_after_the_test(world, data):
    """At the true parameters the model's lift is the world's true lift, read-out included:
    tv (decay 0.55 a week) sells a good part of its lift in the 6 weeks after the holdout,
    search (decay 0.05) next to nothing, and tv with no decay nothing at all."""
    tv = world.channels[0]
    assert tv.name == "tv" and tv.decay > 0.5
    first, periods = 60, 8
    lifts = {}
    for after in (0, 6):
        exp = _holdout(data, "tv", first, periods, after)
        lifts[after] = _model_lift(data, world.channels, exp)
        assert lifts[after] == pytest.approx(_true_lift(world, tv, first, periods, after), rel=1e-3)
    assert lifts[6] > 1.1 * lifts[0]  # the weeks after the test add ~15 %
    search = world.channels[1]
    own, read = (
        _model_lift(data, world.channels, _holdout(data, "search", first, periods, a))
        for a in (0, 6)
    )
    assert own < read < 1.01 * own
    flat = [replace(tv, decay=0.0), *world.channels[1:]]
    own, read = (_model_lift(data, flat, _holdout(data, "tv", first, periods, a)) for a in (0, 6))
    assert read == pytest.approx(own, rel=1e-6)
    assert search.decay < 0.1


def test_experiment_arrays_change_the_spend_in_the_test_only(data):
    """The arms differ in the test's periods; the read-out's periods see it only through the lag."""
    exp = _holdout(data, "tv", 60, 8, 4)
    scale = model_inputs(data, PRIORS).spend_scale
    arrays = experiment_arrays([exp], data, scale)
    assert arrays.periods[0].tolist() == list(range(60, 72)) and arrays.mask[0].sum() == 12
    diff = arrays.high[0] - arrays.low[0]  # (periods, lag)
    tv = data.spend[0, :, 0] / scale[0]
    for n, t in enumerate(range(60, 72)):
        for lag in range(data.window):
            changed = 60 <= t - lag < 68
            assert diff[n, lag] == pytest.approx(0.5 * tv[t - lag] if changed else 0.0)


def test_checks_use_the_read_out_window(world, data):
    """A test whose change lands in another's read-out is contaminated; a read-out before
    the end or past the data is rejected."""
    tv = world.channels[0]

    def measured(first: int, after: int, se: float, name: str) -> Experiment:
        lift = _true_lift(world, tv, first, 8, after)
        return _holdout(data, "tv", first, 8, after, name=name, lift=lift, standard_error=se)

    a = measured(60, 6, 2e3, "a")  # changes weeks 60-67, read out to week 73; most precise
    b = measured(70, 0, 4e3, "b")  # starts after a's end, inside its read-out
    c = measured(90, 0, 4e3, "c")
    early = replace(a, name="early", readout_end=a.end - WEEK)
    late = replace(a, name="late", readout_end=data.dates[-1] + 3 * WEEK)
    # a test itself only partly inside the history: refused, not cut to the part inside
    running = replace(c, name="running", start=data.dates[-3], end=data.dates[-1] + 3 * WEEK)
    before = replace(c, name="before", start=data.dates[0] - 2 * WEEK, end=data.dates[3])
    verdicts = check_experiments([a, b, c, early, late, running, before], data, PRIORS)
    by_name = {v.experiment.name: v for v in verdicts}
    assert by_name["a"].accepted, by_name["a"].reason
    assert by_name["c"].accepted, by_name["c"].reason
    assert "overlaps accepted test a" in by_name["b"].reason
    assert "before the test does" in by_name["early"].reason
    assert "read-out runs past the data's history" in by_name["late"].reason
    assert "test runs past the data's history" in by_name["running"].reason
    assert "starts before the data's history" in by_name["before"].reason


def test_experiment_csv_reads_the_read_out_end(tmp_path):
    path = tmp_path / "tests.csv"
    head = "channel,start,end,kind,lift,standard_error,holdout_share,readout_end\n"
    path.write_text(
        head + "tv,2024-01-01,2024-01-28,holdout,12,3,1,2024-02-25\n"
        "tv,2024-03-04,2024-03-31,holdout,12,3,1,\n"
    )
    first, second = read_experiments(path)
    assert first.readout_end == pd.Timestamp("2024-02-25") == first.read_until
    assert second.readout_end is None and second.read_until == second.end
    for bad, message in (
        ("2024-02-30", "line 2: field 'readout_end' = '2024-02-30' is not a date"),
        ("2024-01-20", "line 2: field 'readout_end' = '2024-01-20' is before the test's end"),
    ):
        path.write_text(head + f"tv,2024-01-01,2024-01-28,holdout,12,3,1,{bad}\n")
        with pytest.raises(ValueError) as err:
            read_experiments(path)
        assert str(path) in str(err.value) and message in str(err.value)


def test_a_read_out_shifts_the_prior_lift_by_the_carry_over(data):
    """The quality check's prior-predictive median is over the read-out too (more lift)."""
    tests = [
        _holdout(data, "tv", 60, 8, after, lift=1e5, standard_error=1e5, name=str(after))
        for after in (0, 6)
    ]
    own, read = (v.prior_lift_median for v in check_experiments(tests, data, PRIORS))
    assert read > own > 0


def test_model_tail_lift_is_the_true_tail(world, data):
    """At the true parameters the model's lift over the weeks after the test alone (a tail row)
    is the world's true tail; the in-test row and the tail row add up to the whole read-out;
    with no decay the tail is nothing."""
    tv = world.channels[0]
    first, periods, after = 60, 8, 6
    whole = _holdout(data, "tv", first, periods, after)
    inside = replace(whole, readout_end=None)
    tail = _model_lift(data, world.channels, _tail(whole))
    true_tail = _true_lift(world, tv, first, periods, after, skip=periods)
    assert true_tail > 0.1 * _true_lift(world, tv, first, periods, 0)  # a tail worth measuring
    assert tail == pytest.approx(true_tail, rel=1e-3)
    assert _model_lift(data, world.channels, inside) + tail == pytest.approx(
        _model_lift(data, world.channels, whole), rel=1e-6
    )
    flat = [replace(tv, decay=0.0), *world.channels[1:]]
    assert _model_lift(data, flat, _tail(whole)) == pytest.approx(0.0, abs=1e-6)
    arrays = experiment_arrays([_tail(whole)], data, model_inputs(data, PRIORS).spend_scale)
    assert arrays.periods[0][arrays.mask[0] > 0].tolist() == list(range(68, 74))


def test_the_two_rows_of_a_test_are_both_accepted(world, data):
    """A test's in-test row and its tail row are one change: neither contaminates the other,
    and the tail row is not refused for the power its prior median (the prior's decay) gives it.
    A row reading days another row of the same test reads is refused (the lift counted twice);
    a tail row whose read-out is wrong is refused with its reason; another test starting in the
    tail's read-out is still contaminated."""
    tv = world.channels[0]
    first, periods, after = 60, 8, 6
    inside = _holdout(
        data,
        "tv",
        first,
        periods,
        0,
        name="inside",
        lift=_true_lift(world, tv, first, periods, 0),
        standard_error=2e3,
    )
    true_tail = _true_lift(world, tv, first, periods, after, skip=periods)
    tail = _tail(
        replace(
            inside,
            name="t",
            readout_end=inside.end + after * WEEK,
            lift=true_tail,
            standard_error=0.1 * true_tail,
        )
    )
    later = _true_lift(world, tv, first, periods, after, skip=periods + 1)
    twice = replace(
        tail, name="twice", lift_start=tail.read_from + WEEK, lift=later, standard_error=0.5 * later
    )
    other = replace(inside, name="other", start=tail.read_from, end=tail.read_from + 4 * WEEK)
    late = replace(tail, name="late", readout_end=data.dates[-1] + 3 * WEEK)
    backwards = replace(tail, name="backwards", lift_start=tail.read_until + pd.Timedelta(days=1))
    early = replace(tail, name="early", lift_start=inside.start - WEEK)
    # a read-out shorter than one whole week of the weekly model
    no_week = replace(tail, name="no week", readout_end=tail.read_from + pd.Timedelta(days=3))
    tests = [inside, tail, twice, other, late, backwards, early, no_week]
    by_name = {v.experiment.name: v for v in check_experiments(tests, data, PRIORS)}
    assert by_name["inside"].accepted, by_name["inside"].reason
    assert by_name["t tail"].accepted, by_name["t tail"].reason
    assert "reads the same days as accepted row t tail of the same test" in by_name["twice"].reason
    assert "overlaps accepted test" in by_name["other"].reason
    assert "read-out runs past the data's history" in by_name["late"].reason
    assert "after the read-out ends" in by_name["backwards"].reason
    assert "before the test starts" in by_name["early"].reason
    assert "no whole period between lift_start" in by_name["no week"].reason
    # a noisy tail: under the power rule at the prior's median, yet accepted (power is the
    # test's); the in-test row of that noise is still refused as underpowered
    weak_tail = replace(tail, name="weak tail", standard_error=0.5 * true_tail)
    weak_inside = replace(inside, name="weak inside", standard_error=1e9)
    weak_tail_v, weak_inside_v = check_experiments([weak_tail, weak_inside], data, PRIORS)
    assert weak_tail_v.accepted and weak_tail_v.power < 0.2, weak_tail_v
    assert "underpowered" in weak_inside_v.reason


def test_experiment_csv_reads_the_lift_start(tmp_path):
    """``lift_start`` (default ``start``): a tail row reads from after the test's end; not a
    date, before the start or after the read-out's end is an error naming file, line, field."""
    path = tmp_path / "tests.csv"
    head = "channel,start,end,kind,lift,standard_error,holdout_share,readout_end,lift_start\n"
    path.write_text(
        head + "tv,2024-01-01,2024-01-28,holdout,12,3,1,,\n"
        "tv,2024-01-01,2024-01-28,holdout,4,1,1,2024-02-25,2024-01-29\n"
    )
    inside, tail = read_experiments(path)
    assert inside.lift_start is None and inside.read_from == inside.start
    assert inside.read_until == inside.end and not inside.tail_only
    assert tail.read_from == pd.Timestamp("2024-01-29") and tail.tail_only
    assert tail.read_until == pd.Timestamp("2024-02-25") and tail.same_test(inside)
    for readout, bad, message in (
        ("2024-02-25", "2024-13-01", "line 2: field 'lift_start' = '2024-13-01' is not a date"),
        ("2024-02-25", "2023-12-31", "line 2: field 'lift_start' = '2023-12-31' is before the"),
        ("2024-02-25", "2024-02-26", "line 2: field 'lift_start' = '2024-02-26' is after the"),
        ("", "2024-01-29", "line 2: field 'lift_start' = '2024-01-29' is after the read-out's"),
    ):
        path.write_text(head + f"tv,2024-01-01,2024-01-28,holdout,12,3,1,{readout},{bad}\n")
        with pytest.raises(ValueError) as err:
            read_experiments(path)
        assert str(path) in str(err.value) and message in str(err.value)


def test_a_row_read_before_a_break_in_its_channel_is_refused(world, data):
    """A break in tv's response from week 145, inside the model's last half-year effect
    segment (weeks 130-155, whose level is today's): a tv holdout read before it in that
    segment is refused with the break in its reason (its lift would pin today's tv effect to
    the one before the break), so is one read across it. A tv holdout in the segment before
    (the model gives it its own level), search beside tv, and a tv tail row read from the
    break on stay. Without the break every one of them is accepted; with the model's segment
    split at the break, too."""
    priors = Priors()  # time-varying: half-year effect segments
    segment = model_inputs(data, priors).segment
    assert segment[129] != segment[130] == segment[145] == segment[155]
    tv, search = world.channels[0], world.channels[1]
    brk = ResponseBreak("tv", data.dates[145].date(), -0.5, 1e-12, "tv -50 % from week 145")

    def measured(channel, name: str, first: int, periods: int = 6) -> Experiment:
        lift = _true_lift(world, channel, first, periods, 0)
        exp = _holdout(data, channel.name, first, periods, 0, name=name, lift=lift)
        return replace(exp, standard_error=0.15 * lift)

    # (tv is off in weeks 133-139 and 147-153)
    tests = [
        measured(tv, "before", 130, 3),
        measured(tv, "across", 141),
        measured(tv, "earlier segment", 112),
        measured(search, "search", 134),
    ]
    assert all(v.accepted for v in check_experiments(tests, data, priors)), check_experiments(
        tests, data, priors
    )
    by_name = {
        v.experiment.name: v for v in check_experiments(tests, data, priors, breaks={"tv": brk})
    }
    for name in ("before", "across"):
        assert not by_name[name].accepted
        assert "read before a break in tv's response" in by_name[name].reason
        assert str(data.dates[145].date()) in by_name[name].reason
    for name in ("earlier segment", "search"):
        assert by_name[name].accepted, by_name[name].reason
    # the model's segment split at the break (fit_channel_kpis does so): the rows before it
    # have a level of their own, today's is the one after it; both stay
    split = Priors(breaks=(("tv", str(brk.day)),))
    assert model_inputs(data, split).segment[144] != model_inputs(data, split).segment[145]
    kept = check_experiments(tests, data, split, breaks={"tv": brk})
    assert all(v.accepted for v in kept), kept
    # a test ending the day before the break, read out 5 weeks past it: its in-test row
    # measured the old response, its tail row the new one
    inside = measured(tv, "inside", 139)
    tail = _tail(replace(inside, name="t", readout_end=inside.end + 5 * WEEK))
    tail = replace(tail, lift=_true_lift(world, tv, 139, 6, 5, skip=6))
    assert tail.lift > 0
    tail = replace(tail, standard_error=0.5 * tail.lift)
    assert tail.read_from == data.dates[145]
    inside_v, tail_v = check_experiments([inside, tail], data, priors, breaks={"tv": brk})
    assert "read before a break" in inside_v.reason
    assert tail_v.accepted, tail_v.reason
