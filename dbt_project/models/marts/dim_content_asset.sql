-- The current version of each content asset (dim_content_asset_version's `is_current` row)
-- and whether it may be used: approved by compliance and brand safe.
select
    asset_id,
    version,
    title,
    body,
    topic,
    format,
    channel_fit,
    compliance_status,
    brand_safe,
    regulated_claim,
    coalesce(compliance_status = 'approved' and brand_safe, false) as is_compliant
from {{ ref('dim_content_asset_version') }}
where is_current
