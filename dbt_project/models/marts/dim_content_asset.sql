-- The latest version of each content asset and whether it may be used: approved by
-- compliance and brand safe.
with assets as (
    select
        *,
        row_number() over (
            partition by asset_id
            order by version desc, partition_date desc, _loaded_at desc
        ) as recency_rank
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
    coalesce(compliance_status = 'approved' and is_brand_safe, false) as is_compliant
from assets
where recency_rank = 1
