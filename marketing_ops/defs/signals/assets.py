"""`signals`: one asset per source, `raw/<source>`, loading the inbox into `raw.*`."""

import dagster as dg

from marketing_ops.defs.partitions import daily, partition_window
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.signals import SOURCES, ingest_source

SOURCE_DESCRIPTIONS = {
    "ga4": "GA4 BigQuery export (newline-delimited JSON): sessions, page views, leads, purchases.",
    "google_ads": "Google Ads daily campaign report (search and display campaigns).",
    "meta_ads": "Meta Ads insights per ad and day, with actions and action values.",
    "crm_deals": "CRM deals export (HubSpot- or Salesforce-like), closed won and lost.",
    "crm_contacts": "CRM contacts with segment and consent; emails and phones keyed on load.",
    "email_events": "Email platform events: send, delivered, open, click, bounce, unsubscribe.",
    "offline_conversions": "Offline conversions in the Google Ads offline-import layout.",
    "content_assets": "Content catalogue: assets with topic, format, channel fit, compliance.",
}


def build_source_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", source],
        group_name="signals",
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=STORE_POOL,
        kinds={"duckdb", "python"},
        owners=["team:marketing-ops"],
        description=SOURCE_DESCRIPTIONS.get(source, source),
    )
    def _raw(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
        start, end = partition_window(context)
        home = store.home()
        with store.warehouse() as con:
            report = ingest_source(home, con, source, start, end, store.pii_key())
        meta = report.to_metadata()
        context.log.info(f"raw/{source} {start}..{end}: {meta}")
        return dg.MaterializeResult(metadata={k: v for k, v in meta.items()})

    return _raw


source_assets = [build_source_asset(s) for s in SOURCES]

defs = dg.Definitions(assets=source_assets)
