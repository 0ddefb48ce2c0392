"""Writing each decision batch to the decision ledger, from inside the step that made it.

The core (:func:`marketing_ops.decisioning.batch.replay.record_batch`) stores the inputs and
re-runs the decision from them; this shell adds what only Dagster and the warehouse know at
that moment: the upstream lineage with data versions (from the instance's input event
pointers), the source files current in the file log, the code and model versions.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd

from marketing_ops.decisioning import AutonomyState, PolicySet
from marketing_ops.decisioning.batch.replay import record_batch
from marketing_ops.decisioning.decide import DecisionInputs
from marketing_ops.defs._shared import StoreResource, upstream_lineage
from marketing_ops.governance.lineage import code_version, library_versions, source_manifest

__all__ = ["record_decisions"]


def model_versions(inputs: DecisionInputs, lineage: list[dict]) -> dict:
    """The forecast models behind the inputs, the response curves' data version, and the
    libraries whose arithmetic the decision ran on."""
    forecasts = inputs.forecasts
    names = (
        sorted({str(v) for v in forecasts["model_version"].dropna()})
        if "model_version" in forecasts
        else []
    )
    by_asset = {n["asset"]: n.get("data_version") for n in lineage}
    return {
        "forecast_models": names,
        "forecasts/baselines": by_asset.get("forecasts/baselines"),
        "forecasts/response_curves": by_asset.get("forecasts/response_curves"),
        "libraries": library_versions(),
    }


def record_decisions(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    day: date,
    batch: pd.DataFrame,
    inputs: DecisionInputs,
    policies: PolicySet,
    autonomy: AutonomyState,
    signals: list[dict],
    keys: list[dg.AssetKey],
    carried: pd.DataFrame | None = None,
) -> dict[str, object]:
    """Append the batch to the ledger; returns metadata for the batch's materialisation.
    ``carried``: the batch's rows decided upstream of the decision (incrementality tests)."""
    home = store.home()
    lineage = upstream_lineage(context.instance, keys)
    with store.warehouse() as con:
        manifest = source_manifest(con, day)
    code = code_version()
    entry = record_batch(
        home,
        as_of=day,
        batch=batch,
        inputs=inputs,
        policies_dir=home.policies,
        policy_version=policies.version,
        autonomy=autonomy,
        signals=signals,
        provenance={
            "code_version": code,
            "model_versions": model_versions(inputs, lineage),
            "lineage": lineage,
            "source_files": manifest.summary(),
            "dagster_run_id": context.run_id,
        },
        carried=carried,
    )
    if not entry["replay_verified"]:
        context.log.warning(
            f"batch {entry['batch_id']}: re-running it from the recorded inputs did not give the "
            "same bytes (nondeterminism in the decision code?)"
        )
    sources = manifest.summary()["sources"]
    return {
        "ledger_entry": entry["seq"],
        "ledger_hash": entry["hash"],
        "replay_verified": entry["replay_verified"],
        "code_version": (code["git_commit"] or "no git")[:12]
        + (" (modified)" if code["git_dirty"] else "")
        + f" · source {code['source_sha256'][:12]}",
        "lineage": dg.MetadataValue.md(
            pd.DataFrame(
                [
                    {
                        "source": s,
                        "files": v["files"],
                        "first day": v["first_day"],
                        "last day": v["last_day"],
                    }
                    for s, v in sources.items()
                ]
            ).to_markdown(index=False)
            + f"\n\n{len(lineage)} upstream materialisations; files manifest "
            f"`{manifest.root[:16]}`. `marketing-ops explain DECISION_ID --lineage` walks it."
            if sources
            else "no source files in the file log"
        ),
    }
