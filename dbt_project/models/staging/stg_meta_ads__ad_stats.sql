with source as (
    select * from {{ source('raw', 'meta_ads') }}
),

renamed as (
    select
        date_day,
        'meta_ads' as platform,
        account_id,
        campaign_id,
        campaign_name,
        -- Meta's ad set is the ad group of the shared ad vocabulary.
        adset_id as ad_group_id,
        ad_id,
        impressions,
        clicks,
        spend,
        coalesce(conversions, 0) as conversions,
        coalesce(conversions_value, 0) as conversions_value,
        currency,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
