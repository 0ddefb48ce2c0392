"""Data versions of an asset's inputs, read from the instance: what a decision was made from."""

import dagster as dg

DATA_VERSION_TAG = "dagster/data_version"


def input_versions(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> list[dict[str, str]]:
    """[{name, data_version, run_id}] for the latest materialisation of each key."""
    out = []
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        mat = event.asset_materialization if event else None
        out.append(
            {
                "name": key.to_user_string(),
                "data_version": (mat.tags or {}).get(DATA_VERSION_TAG, "unknown")
                if mat
                else "missing",
                "run_id": event.run_id if event else "",
            }
        )
    return out
