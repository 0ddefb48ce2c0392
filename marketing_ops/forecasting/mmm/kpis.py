"""The media mix model on the warehouse's daily channel KPIs (what the forecasts asset fits).

The KPI is the TOTAL: conversions per day summed over every channel of
``marts.fct_channel_kpis_daily`` (organic and direct too, since media drives those as well);
spend per paid channel. Curves come out in conversions per day with the history's revenue per
conversion, so the decision layer's revenue arithmetic is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version as _package_version
from pathlib import Path

import numpy as np
import pandas as pd

from marketing_ops.forecasting.mmm.calibration import (
    Experiment,
    ExperimentVerdict,
    calibrated_fit,
)
from marketing_ops.forecasting.mmm.curves import fitted_responses, mmm_response_frame
from marketing_ops.forecasting.mmm.data import mmm_data
from marketing_ops.forecasting.mmm.fit import MMMFit, SamplerSettings, fit_mmm
from marketing_ops.forecasting.mmm.model import Priors
from marketing_ops.forecasting.mmm.posterior import channel_summary
from marketing_ops.forecasting.response import RESPONSE_COLUMNS
from marketing_ops.forecasting.settings import ForecastSettings

__all__ = [
    "FIT_TAG",
    "SUMMARY_COLUMNS",
    "KPIFit",
    "curve_rows",
    "fit_channel_kpis",
    "fit_of_model_version",
    "fit_record",
    "geo_kpi_frame",
    "kpi_frame",
    "mmm_model_version",
    "model_code_hash",
    "store_fit",
    "stored_fit",
    "summary_frame",
    "verdict_records",
]

SUMMARY_COLUMNS = [
    "as_of",
    "fitted_on",
    "channel",
    "spend",
    "contribution",
    "contribution_lo",
    "contribution_hi",
    "roas",
    "roas_lo",
    "roas_hi",
    "mroas",
    "mroas_lo",
    "mroas_hi",
    "share_of_kpi",
    "p_mroas_below_1",
    "converged",
    "max_rhat",
    "min_ess",
    "divergences",
    "fit_seconds",
    "model_version",
    "fit_version",
]

# Curve rows carry their fit: ``<model version>@fit:<fit version>`` (decisions cite it)
FIT_TAG = "@fit:"


def mmm_model_version(settings: ForecastSettings) -> str:
    return f"mmm-numpyro{_package_version('numpyro')}+{settings.version}"


def _daily_frame(kpis: pd.DataFrame, channels: list[str], history_days: int) -> pd.DataFrame:
    k = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]))
    total = k.groupby("date_day")[["conversions", "revenue"]].sum()
    spend = k[k["channel"].isin(channels)].pivot_table(
        index="date_day", columns="channel", values="spend", aggfunc="sum"
    )
    days = pd.date_range(total.index.min(), total.index.max(), freq="D")
    frame = total.reindex(days, fill_value=0.0).join(spend.reindex(days)).fillna(0.0)
    return frame.tail(history_days).rename_axis("date").reset_index()


def kpi_frame(kpis: pd.DataFrame, settings: ForecastSettings) -> tuple[pd.DataFrame, list[str]]:
    """The national daily frame the model is fitted on (``date``, total ``conversions`` and
    ``revenue``, spend per paid channel; the last ``history_days``) and its paid channels
    (those with spend). Read-outs of the agent's own tests read the same frame."""
    if kpis.empty:
        return pd.DataFrame(columns=["date", "conversions", "revenue"]), []
    channels = [c for c in settings.response.channels if c in set(kpis["channel"])]
    frame = _daily_frame(kpis, channels, settings.history_days)
    return frame, [c for c in channels if c in frame and frame[c].sum() > 0]


def geo_kpi_frame(geo_kpis: pd.DataFrame | None, frame: pd.DataFrame, channels: list[str]):
    """The frame the agent's geo tests are designed and read on, from
    ``marts.fct_geo_kpis_daily`` rows on the days of the national ``frame``
    (:func:`kpi_frame`): ``date``, ``geo``, ``conversions`` and each of ``channels``' spend
    in the geo (0 where a day has no row). Empty with fewer than two geos.

    Only online purchases have a region (GA4's): deals and offline conversions do not. The
    geos' conversions are scaled so they add up to the national KPI over the frame, taking
    the unplaced conversions to split across geos as the purchases do; a read-out is then in
    the model's units (total conversions)."""
    columns = ["date", "geo", "conversions", *channels]
    if geo_kpis is None or geo_kpis.empty or frame.empty:
        return pd.DataFrame(columns=columns)
    g = geo_kpis.assign(date=pd.to_datetime(geo_kpis["date_day"]))
    g = g[g["date"].isin(pd.to_datetime(frame["date"]))]
    if g["geo"].nunique() < 2:
        return pd.DataFrame(columns=columns)
    grid = pd.MultiIndex.from_product(
        [pd.to_datetime(frame["date"]), sorted(g["geo"].unique())], names=["date", "geo"]
    )
    kpi = g.groupby(["date", "geo"])["conversions"].sum().reindex(grid, fill_value=0.0)
    placed = float(kpi.sum())
    scale = float(frame["conversions"].sum()) / placed if placed > 0 else 1.0
    spend = g[g["channel"].isin(channels)].pivot_table(
        index=["date", "geo"], columns="channel", values="spend", aggfunc="sum"
    )
    out = pd.DataFrame({"conversions": kpi.astype(float) * scale}, index=grid)
    out = out.join(spend.reindex(grid)).fillna(0.0).reset_index()
    for c in channels:
        if c not in out:
            out[c] = 0.0
    return out[columns]


@dataclass(frozen=True)
class KPIFit:
    """A fit of the warehouse's KPIs, what it was fitted on and the experiments' verdicts."""

    fit: MMMFit
    value_per_conversion: float
    version: str  # hash of data version + priors + sampler + model code (fit_version)
    data_version: str  # hash of the daily frame the model saw
    sampler: SamplerSettings
    verdicts: tuple[ExperimentVerdict, ...] = ()


def _frame_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).values.tobytes()
    ).hexdigest()


def model_code_hash() -> str:
    """The media mix model's own source (this package), so a code change is a new fit."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _fit_version(
    data_version: str, fit: MMMFit, sampler: SamplerSettings, model: str, experiments, breaks=None
) -> str:
    """Hash of everything a fit depends on: the data version, priors, sampler, model code,
    the experiments it was calibrated with and the response breaks (they split the model's
    effect segments and refuse tests; found in the per-channel conversions, which the data
    version does not hash)."""
    body = {
        "data_version": data_version,
        "priors": asdict(fit.priors),
        "sampler": asdict(sampler),
        "model_version": model,
        "code": model_code_hash(),
        "experiments": [{k: str(v) for k, v in asdict(e).items()} for e in experiments],
    }
    if breaks:  # absent when none: fits without a break keep their versions
        body["breaks"] = {c: str(b.day) for c, b in sorted(breaks.items())}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def fit_channel_kpis(
    kpis: pd.DataFrame,
    settings: ForecastSettings,
    experiments: list[Experiment] | None = None,
    rejected: tuple[ExperimentVerdict, ...] = (),
    priors: Priors | None = None,
    tests: pd.DataFrame | None = None,
) -> KPIFit | None:
    """The national daily fit (calibrated by ``experiments``, each checked first) and the
    history's revenue per conversion; None without data. No control columns: the warehouse's
    channel KPIs carry none (the base's trend, seasonality and holidays stand in).
    ``rejected``: experiments refused before the model saw them (a read-out that failed its
    own checks); their verdicts go with the fit's onto the ledger. ``priors``: the model's
    (default ``Priors()``; benchmarks study others). ``tests``: the spend the agent's
    executed tests moved (``decisioning.executed_test_spend``): their days are no evidence of
    a response break.

    Each paid channel's response break, when its measured conversions show one
    (:func:`marketing_ops.measurement.drift.response_breaks`, over the fitted history), starts
    an effect segment of the model (``Priors.breaks``), so the current effect is the
    one after it; a lift-test row of that channel read before its break in the same segment
    (the break too near a boundary to split it) is refused, the break in the reason."""
    if kpis.empty:
        return None
    frame, channels = kpi_frame(kpis, settings)
    if not channels or len(frame) < settings.response.min_history_days:
        return None
    data = mmm_data(frame, "conversions", channels, "D")
    m = settings.mmm
    sampler = SamplerSettings(warmup=m.warmup, draws=m.draws, chains=m.chains, seed=m.seed)
    vpc = float(frame["revenue"].sum() / max(frame["conversions"].sum(), 1e-9))
    experiments = list(experiments or [])
    from marketing_ops.measurement.drift import response_breaks  # measurement reads curves

    first, last = frame["date"].iloc[0].date(), frame["date"].iloc[-1].date()
    breaks = response_breaks(kpis, last, since=first, tests=tests)
    priors = (priors or Priors()).split_at(breaks)
    if experiments:
        fit, verdicts = calibrated_fit(data, experiments, priors, sampler, breaks=breaks)
    else:
        fit, verdicts = fit_mmm(data, priors, sampler), []
    data_version = _frame_hash(frame)
    version = _fit_version(
        data_version, fit, sampler, mmm_model_version(settings), experiments, breaks
    )
    return KPIFit(fit, vpc, version, data_version, sampler, (*rejected, *verdicts))


# Fits kept on disk: the response curves' fit of the last days (``mmm.refit_days`` reuses one
# for up to a week) and a few more
KEEP_FITS = 10


def store_fit(folder: Path, result: KPIFit, keep: int = KEEP_FITS) -> Path:
    """Keep ``result`` (posterior draws, inputs, diagnostics, verdicts) in ``folder`` under its
    fit version, the ``keep`` newest fits only, so a later step that needs the posterior behind
    the day's curves (the decision asset's incrementality tests) reads it instead of sampling
    it again. Written whole then renamed: a reader never sees half a file. A pickle, read back
    only from the data home that wrote it (whoever can write there can change the warehouse
    and the policies too)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.version}.pkl"
    # a name of its own: two runs storing the same fit at once never share a half-written file
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as part:
        part.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(part.name, path)
    kept = []
    for p in folder.glob("*.pkl"):
        try:
            kept.append((p.stat().st_mtime_ns, p))
        except FileNotFoundError:  # pruned by another run meanwhile
            continue
    for _, old in sorted(kept, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
    return path


def stored_fit(folder: Path, version: str | None) -> KPIFit | None:
    """The fit of ``version`` kept by :func:`store_fit`; None when it is not there (pruned,
    another home) or cannot be read (written by other code): the caller fits again."""
    if not version:
        return None
    path = folder / f"{version}.pkl"
    try:
        result = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError, ImportError, TypeError):
        return None
    return result if isinstance(result, KPIFit) and result.version == version else None


def fit_of_model_version(model_version: str) -> str | None:
    """The fit version a curve row's model version names (None: not an MMM fit's row)."""
    head, sep, fit = str(model_version).partition(FIT_TAG)
    return fit if sep else None


def fit_record(result: KPIFit, as_of, model_version: str, data_versions: dict) -> dict:
    """What the decision ledger keeps about a fit (``data_versions``: upstream assets' data
    versions as the orchestrator knows them, beside the frame's own hash)."""
    fit = result.fit
    return {
        "fit_version": result.version,
        "model_version": model_version,
        "as_of": str(as_of),
        "data_versions": {**data_versions, "mmm_input_frame": result.data_version},
        "priors": asdict(fit.priors),
        "sampler": asdict(result.sampler),
        "diagnostics": fit.diagnostics.as_dict(),
        "converged": bool(fit.diagnostics.ok),
        "fit_seconds": float(fit.seconds),
        "channels": list(fit.data.channels),
        "periods": int(fit.data.n_periods),
        "experiments": len(result.verdicts),
    }


def _number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def verdict_records(result: KPIFit) -> list[dict]:
    """One ledger record per experiment: accepted or rejected, and why."""
    return [
        {
            "fit_version": result.version,
            "experiment": v.experiment.name or f"{v.experiment.channel} {v.experiment.kind}",
            "channel": v.experiment.channel,
            # not "kind": the ledger entry's own kind (experiment_verdict) would replace it
            "experiment_kind": v.experiment.kind,
            "start": str(v.experiment.start.date()),
            "end": str(v.experiment.end.date()),
            "lift_start": str(v.experiment.read_from.date()),
            "readout_end": str(v.experiment.read_until.date()),
            # a test that could not be read has no lift
            "lift": _number(v.experiment.lift),
            "standard_error": _number(v.experiment.standard_error),
            "accepted": bool(v.accepted),
            "reason": v.reason,
            "prior_lift_median": None if np.isnan(v.prior_lift_median) else v.prior_lift_median,
            "power": None if np.isnan(v.power) else float(v.power),
        }
        for v in result.verdicts
    ]


MONEY = [f"{name}{end}" for name in ("contribution", "roas", "mroas") for end in ("", "_lo", "_hi")]


def summary_frame(
    fit: MMMFit,
    as_of,
    model_version: str,
    value_per_conversion: float = 1.0,
    fit_version: str = "",
) -> pd.DataFrame:
    """Rows of ``agent.mmm_channel_summary``: one per channel, in revenue (a conversions KPI is
    valued at the history's revenue per conversion), with the fit's diagnostics.
    ``p_mroas_below_1``: share of posterior draws whose steady-state marginal ROI at the recent
    daily spend is below 1 (what the next euro returns now, the decision layer's quantity)."""
    d = fit.diagnostics
    out = channel_summary(fit)
    out[MONEY] = out[MONEY] * value_per_conversion
    out["p_mroas_below_1"] = (
        [
            float(np.mean([c.marginal_roi(fr.current_daily_spend) < 1 for c in fr.samples]))
            for fr in fitted_responses(fit, value_per_conversion, 200).values()
        ]
        if fit.data.freq == "D"
        else out["p_mroas_below_1"]
    )
    out = out.assign(
        as_of=as_of,
        fitted_on=as_of,
        converged=bool(d.ok),
        max_rhat=float(d.max_rhat),
        min_ess=float(d.min_ess),
        divergences=int(d.divergences),
        fit_seconds=float(fit.seconds),
        model_version=model_version,
        fit_version=fit_version,
    )
    return out[SUMMARY_COLUMNS]


def curve_rows(
    fit: MMMFit, vpc: float, as_of, model_version: str, n_draws: int, fit_version: str = ""
):
    """``agent.response_curves`` rows of a converged fit (none for a fit that did not converge),
    their model version tagged with the fit's (``FIT_TAG``)."""
    if not fit.diagnostics.ok:  # typed and empty: it clears the day's rows
        return pd.DataFrame(columns=RESPONSE_COLUMNS)
    tagged = f"{model_version}{FIT_TAG}{fit_version}" if fit_version else model_version
    return mmm_response_frame(fit, as_of, tagged, vpc, n_draws)
