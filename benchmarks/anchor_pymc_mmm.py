"""The anchor fit for bench_mmm.py: PyMC-Marketing's MMM on the same CSV, run in its own venv.

Not imported by marketing_ops (PyMC-Marketing needs its own environment): bench_mmm.py runs
``benchmarks/.anchor-venv/bin/python benchmarks/anchor_pymc_mmm.py <json args>`` and reads one
JSON line from stdout: per channel ROAS and 0.5x / 1.5x counterfactual contribution, each as
mean and 80 % interval, plus wall time, CPU time and peak memory of the process. ``lift_tests``
(rows of channel, x, delta_x, delta_y, sigma) calibrate the fit through
``MMM.add_lift_test_measurements``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd


def _contributions(mmm, X: pd.DataFrame, y) -> np.ndarray:
    """(draws, channels) contribution over the history in KPI units for the spend in X."""
    import pymc as pm

    mmm._data_setter(X, y)
    with mmm.model:
        pp = pm.sample_posterior_predictive(
            mmm.idata, var_names=["channel_contribution"], progressbar=False
        )
    c = pp.posterior_predictive["channel_contribution"]
    flat = c.stack(sample=("chain", "draw")).transpose("sample", "date", "channel").to_numpy()
    scaled = mmm.get_target_transformer().inverse_transform(flat.reshape(-1, 1)).reshape(flat.shape)
    return scaled.sum(axis=1)


def _interval(draws: np.ndarray) -> list[float]:
    return [float(draws.mean()), float(np.percentile(draws, 10)), float(np.percentile(draws, 90))]


def main(args: dict) -> dict:
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    frame = pd.read_csv(args["csv"], parse_dates=["date"])
    channels, controls = args["channels"], args.get("controls", [])
    X, y = frame[["date", *channels, *controls]], frame[args["kpi"]]
    mmm = MMM(
        date_column="date",
        channel_columns=channels,
        control_columns=controls or None,
        adstock=GeometricAdstock(l_max=args["l_max"]),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    started, cpu = time.perf_counter(), time.process_time()
    if args.get("lift_tests"):  # PyMC-Marketing's calibration: built first, then the tests
        mmm.build_model(X, y)
        mmm.add_lift_test_measurements(pd.DataFrame(args["lift_tests"]))
    mmm.fit(
        X,
        y,
        chains=args["chains"],
        draws=args["draws"],
        tune=args["tune"],
        random_seed=args["seed"],
        progressbar=False,
        cores=1,
    )
    base = _contributions(mmm, X, y)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    spend = frame[channels].sum().to_numpy()
    out = {
        "roas": {c: _interval(base[:, i] / spend[i]) for i, c in enumerate(channels)},
        "counterfactual": {},
    }
    for m in (0.5, 1.5):
        cf = _contributions(mmm, X.assign(**{c: X[c] * m for c in channels}), y)
        out["counterfactual"][str(m)] = {c: _interval(cf[:, i]) for i, c in enumerate(channels)}
    out.update(
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return out


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    print(json.dumps(main(json.loads(sys.argv[1]))))
