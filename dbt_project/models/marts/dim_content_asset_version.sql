-- Every version of every content asset the catalogue has shown (the latest catalogue row of
-- each version) and which one is current (the highest). The knowledge graph keeps the
-- versions as nodes linked by VERSION_OF and judges each against the content policies.
with versions as (
    select
        *,
        row_number() over (
            partition by asset_id, version
            order by partition_date desc, _loaded_at desc
        ) as recency_rank,
        min(partition_date) over (partition by asset_id, version) as first_seen_on
    from {{ ref('stg_content__assets') }}
)

select
    asset_id,
    version,
    title,
    body,
    topic,
    format,
    channel_fit,
    compliance_status,
    is_brand_safe as brand_safe,
    is_regulated_claim as regulated_claim,
    first_seen_on,
    version = max(version) over (partition by asset_id) as is_current
from versions
where recency_rank = 1
