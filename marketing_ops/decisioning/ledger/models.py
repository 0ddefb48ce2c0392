"""The models behind decisions, on the decision ledger: each media mix model fit and each
experiment's verdict, in the same hash chain as the decision batches (:mod:`.chain`).

A fit is recorded once, under its version (a hash of the data version, priors, sampler and
model code: :func:`marketing_ops.forecasting.mmm.kpis.fit_record`), with its data versions and
convergence diagnostics; every experiment checked for it gets an ``experiment_verdict`` entry
(accepted or rejected, and why). A decision batch made on the fit's curves names the fit
version in its budget rationales, and :func:`fit_entry` finds the fit for ``explain``.
"""

from __future__ import annotations

import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning.ledger.decisions import append_entry, read_entries

__all__ = [
    "MODEL_FIT",
    "VERDICT",
    "VERDICT_COLUMNS",
    "fit_entry",
    "record_model_fit",
    "verdict_entries",
    "verdict_frame",
]

MODEL_FIT = "model_fit"
VERDICT = "experiment_verdict"


def record_model_fit(home: DataHome, fit: dict, verdicts: list[dict]) -> list[dict]:
    """Append the fit (once per fit version) and its experiments' verdicts; returns the
    entries written (none when this fit version is on the ledger already)."""
    entries = read_entries(home)
    if fit_entry(entries, fit["fit_version"]) is not None:
        return []
    out = [append_entry(home, MODEL_FIT, fit)]
    out += [append_entry(home, VERDICT, v) for v in verdicts]
    return out


def fit_entry(entries: list[dict], fit_version: str) -> dict | None:
    """The ledger's entry of a fit version (a unique prefix of it is enough)."""
    if not fit_version:
        return None
    for e in entries:
        if e.get("kind") == MODEL_FIT and str(e.get("fit_version", "")).startswith(fit_version):
            return e
    return None


def verdict_entries(entries: list[dict], fit_version: str) -> list[dict]:
    """The experiment verdicts recorded with a fit version."""
    return [e for e in entries if e.get("kind") == VERDICT and e.get("fit_version") == fit_version]


# what a decision reads of a fit's verdicts (forecasting.mmm.kpis.verdict_records' fields)
VERDICT_COLUMNS = [
    "fit_version",
    "experiment",
    "channel",
    "start",
    "end",
    "lift_start",
    "readout_end",
    "accepted",
    "reason",
]


def verdict_frame(home: DataHome, fit_version: str | None) -> pd.DataFrame:
    """The experiment verdicts recorded with a fit version, one row each (empty, with the
    columns, for none or no fit: attributed curves)."""
    found = verdict_entries(read_entries(home), fit_version) if fit_version else []
    return pd.DataFrame(
        [{c: e.get(c) for c in VERDICT_COLUMNS} for e in found], columns=VERDICT_COLUMNS
    )
