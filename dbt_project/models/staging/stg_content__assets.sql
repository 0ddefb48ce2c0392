with source as (
    select * from {{ source('raw', 'content_assets') }}
),

renamed as (
    select
        asset_id,
        version,
        title,
        body,
        topic,
        format,
        channel_fit,
        compliance_status,
        brand_safe as is_brand_safe,
        regulated_claim as is_regulated_claim,
        created_at,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
