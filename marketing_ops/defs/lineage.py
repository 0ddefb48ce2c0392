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


INPUT_POINTER_PREFIX = "dagster/input_event_pointer/"


def upstream_lineage(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> list[dict]:
    """Every materialisation upstream of ``keys``, found by following the input event
    pointers Dagster records on each materialisation (so it names the exact upstream event a
    step read, not merely the latest one): [{asset, data_version, run_id, partition,
    storage_id, inputs: {upstream asset: data version}}], one per asset event reached."""
    frontier: list[tuple[dg.AssetKey, int | None]] = [(k, None) for k in keys]
    seen: set[tuple[str, int | None]] = set()
    nodes: list[dict] = []
    while frontier:
        key, storage_id = frontier.pop()
        records_filter = (
            key if storage_id is None else dg.AssetRecordsFilter(key, storage_ids=[storage_id])
        )
        records = instance.fetch_materializations(records_filter, limit=1).records
        if not records:
            nodes.append({"asset": key.to_user_string(), "data_version": "missing"})
            continue
        record = records[0]
        marker = (key.to_user_string(), record.storage_id)
        if marker in seen:
            continue
        seen.add(marker)
        mat = record.asset_materialization
        tags = (mat.tags if mat else None) or {}
        inputs = {}
        for tag, value in tags.items():
            if tag.startswith(INPUT_POINTER_PREFIX):
                parent = tag[len(INPUT_POINTER_PREFIX) :]
                inputs[parent] = tags.get(f"dagster/input_data_version/{parent}", "unknown")
                frontier.append((dg.AssetKey.from_user_string(parent), int(value)))
        nodes.append(
            {
                "asset": key.to_user_string(),
                "data_version": tags.get(DATA_VERSION_TAG, "unknown"),
                "run_id": record.run_id,
                "partition": mat.partition if mat else None,
                "storage_id": record.storage_id,
                "inputs": dict(sorted(inputs.items())),
            }
        )
    return sorted(nodes, key=lambda n: (n["asset"], n.get("storage_id") or 0))
