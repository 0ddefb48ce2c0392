"""Forecast benchmark: fit 100 two-year daily series serially and on the fork pool, and score
them on held-out days against seasonal naive.

    .venv/bin/python benchmarks/bench_forecasts.py [--series 100] [--holdout 28] [--workers 2]

Series are the daily conversions of every channel (paid and spend-free) and every audience
segment of seeded simulator worlds (two years each, drawn without export files). Each series
is fitted with the baselines' Prophet model (holidays, seasonality, spend regressor where
spend moves) on all but the last ``--holdout`` days, which it then forecasts.

Prints: wall time serial vs parallel (the serial loop is the same-run baseline; the ratio is
the speed-up) and whether both gave identical numbers; the accuracy table per kind of series
(MAPE, sMAPE, MASE, 80 % interval coverage, Prophet vs seasonal naive on the same days); and
the response-curve recovery error of each world's paid channels against the simulator's
true curves (skip with --no-curves).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

import numpy as np
import pandas as pd

START = date(2024, 1, 1)
DAYS = 730


def build_series(n: int) -> list[tuple[str, int, str, pd.DataFrame]]:
    """(kind, seed, name, frame of date_day, y, spend) until ``n`` series are collected."""
    from marketing_ops.simulator import WorldConfig
    from marketing_ops.simulator.daily import simulate_daily

    out: list[tuple[str, int, str, pd.DataFrame]] = []
    seed = 0
    while len(out) < n:
        seed += 1
        world = simulate_daily(WorldConfig(seed=seed, start=START, days=DAYS))
        for channel, h in world.kpis.groupby("channel", sort=True):
            kind = "paid channel" if h["spend"].sum() > 0 else "spend-free channel"
            frame = pd.DataFrame(
                {"date_day": h["date_day"], "y": h["conversions"], "spend": h["spend"]}
            )
            out.append((kind, seed, channel, frame.reset_index(drop=True)))
        for audience, h in world.audiences.groupby("audience_id", sort=True):
            frame = pd.DataFrame({"date_day": h["date_day"], "y": h["conversions"]})
            out.append(("audience", seed, audience, frame.reset_index(drop=True)))
    return out[:n]


_SETTINGS = None
_HOLDOUT = 28


def _fit_one(frame: pd.DataFrame) -> np.ndarray:
    """Prophet on all but the holdout; the holdout's forecast (yhat, lower, upper)."""
    from marketing_ops.forecasting import fit_series

    cut = len(frame) - _HOLDOUT
    planned = frame["spend"].to_numpy(float)[cut:] if "spend" in frame else None
    fc = fit_series(frame.iloc[:cut], _HOLDOUT, _SETTINGS, planned)
    return fc[["yhat", "yhat_lower", "yhat_upper"]].to_numpy(float)


def accuracy_table(series, forecasts) -> pd.DataFrame:
    from marketing_ops.forecasting import coverage, mape, mase, seasonal_naive, smape

    rows = []
    for (kind, _, _, frame), fc in zip(series, forecasts, strict=True):
        y = frame["y"].to_numpy(float)
        history, actual = y[:-_HOLDOUT], y[-_HOLDOUT:]
        naive = seasonal_naive(history, _HOLDOUT, 0.8)
        for model, (p, lo, hi) in (("prophet", fc.T), ("seasonal_naive", naive)):
            rows.append(
                {
                    "kind": kind,
                    "model": model,
                    "mape": mape(actual, p),
                    "smape": smape(actual, p),
                    "mase": mase(actual, p, history[-365:]),
                    "coverage": coverage(actual, lo, hi),
                }
            )
    scores = pd.DataFrame(rows)
    table = scores.groupby(["kind", "model"]).agg(
        series=("mase", "size"),
        mape=("mape", "mean"),
        smape=("smape", "mean"),
        mase=("mase", "mean"),
        coverage=("coverage", "mean"),
    )
    wide = scores.assign(i=np.repeat(np.arange(len(series)), 2)).pivot(
        index="i", columns="model", values="mase"
    )
    wide["kind"] = [s[0] for s in series]
    beats = (wide["prophet"] < wide["seasonal_naive"]).groupby(wide["kind"]).mean()
    below_one = (wide["prophet"] < 1.0).groupby(wide["kind"]).mean()
    table = table.reset_index()
    prophet = table["model"] == "prophet"
    table.loc[prophet, "beats_naive"] = table.loc[prophet, "kind"].map(beats).to_numpy()
    table.loc[prophet, "mase_below_1"] = table.loc[prophet, "kind"].map(below_one).to_numpy()
    return table


def curve_table(seeds: list[int]) -> pd.DataFrame:
    """Steady-state response error (mean |fitted - true| / true over the 10th-90th percentile
    of historical daily spend) and marginal-ROI error at the median spend, per channel."""
    from marketing_ops.forecasting import demand_index, fit_response_curves, load_forecast_settings
    from marketing_ops.simulator import WorldConfig
    from marketing_ops.simulator.daily import simulate_daily

    settings = load_forecast_settings()
    rows = []
    for seed in seeds:
        world = simulate_daily(WorldConfig(seed=seed, start=START, days=DAYS))
        k = world.kpis
        as_of = k["date_day"].max()
        index = demand_index(k, as_of, 7, settings)
        for channel, fr in fit_response_curves(k, index, settings, bootstrap=0).items():
            true = world.curves[channel]
            spend = k.loc[k["channel"] == channel, "spend"].to_numpy(float)
            grid = np.linspace(*np.quantile(spend[spend > 0], [0.1, 0.9]), 20)
            est, real = fr.curve.steady_state_conversions(grid), true.steady_state_conversions(grid)
            median = float(np.median(grid))
            rows.append(
                {
                    "seed": seed,
                    "channel": channel,
                    "curve_error": float(np.mean(np.abs(est - real) / real)),
                    "mroi_error": float(fr.curve.marginal_roi(median) / true.marginal_roi(median))
                    - 1,
                }
            )
    frame = pd.DataFrame(rows)
    return frame.groupby("channel").agg(
        worlds=("seed", "size"),
        curve_error_mean=("curve_error", "mean"),
        curve_error_max=("curve_error", "max"),
        mroi_abs_error_mean=("mroi_error", lambda s: float(np.mean(np.abs(s)))),
        mroi_abs_error_max=("mroi_error", lambda s: float(np.max(np.abs(s)))),
    )


def main() -> None:
    global _SETTINGS, _HOLDOUT
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--holdout", type=int, default=28)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-curves", action="store_true")
    args = parser.parse_args()

    from marketing_ops.forecasting import load_forecast_settings, quiet_logs
    from marketing_ops.forecasting.parallel import parallel_map

    quiet_logs()
    _SETTINGS = load_forecast_settings()
    _HOLDOUT = args.holdout
    t0 = time.perf_counter()
    series = build_series(args.series)
    simulate_s = time.perf_counter() - t0
    frames = [s[3] for s in series]
    parallel_map(_fit_one, frames[:2], 1)  # import Prophet and Stan once, outside the timings

    t0 = time.perf_counter()
    serial = parallel_map(_fit_one, frames, 1)
    serial_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    parallel = parallel_map(_fit_one, frames, args.workers)
    parallel_s = time.perf_counter() - t0
    same = all(np.array_equal(a, b) for a, b in zip(serial, parallel, strict=True))

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"\n{len(series)} series x {DAYS} days (simulated in {simulate_s:.1f} s), "
        f"fit on {DAYS - _HOLDOUT} days, forecast {_HOLDOUT}; {os.cpu_count()} CPUs, "
        f"load average {load} (other work on the machine shrinks the pool's speed-up)\n"
    )
    timing = pd.DataFrame(
        [
            {"run": "serial (baseline)", "workers": 1, "seconds": serial_s},
            {"run": "fork pool", "workers": args.workers, "seconds": parallel_s},
        ]
    )
    timing["per_series_s"] = timing["seconds"] / len(series)
    timing["speed_up_vs_serial"] = serial_s / timing["seconds"]
    print(timing.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"identical forecasts serial vs parallel: {same}\n")
    print("accuracy on the held-out days (means over series):")
    print(
        accuracy_table(series, parallel).to_string(index=False, float_format=lambda v: f"{v:.3f}")
    )
    if not args.no_curves:
        seeds = sorted({s[1] for s in series})
        print(f"\nresponse curves vs the simulator's true curves ({len(seeds)} worlds):")
        print(curve_table(seeds).to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
