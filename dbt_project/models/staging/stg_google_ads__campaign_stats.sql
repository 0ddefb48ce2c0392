with source as (
    select * from {{ source('raw', 'google_ads') }}
),

renamed as (
    select
        date_day,
        'google_ads' as platform,
        -- The Google Ads campaign report has no account or ad columns.
        cast(null as varchar) as account_id,
        campaign_id,
        campaign_name,
        cast(null as varchar) as ad_group_id,
        cast(null as varchar) as ad_id,
        impressions,
        clicks,
        -- Money in the reporting currency; the account's amounts and currency kept beside it.
        {{ reporting_amount('spend') }} as spend,
        coalesce(conversions, 0) as conversions,
        coalesce({{ reporting_amount('conversions_value') }}, 0) as conversions_value,
        '{{ reporting_currency() }}' as currency,
        spend as original_spend,
        coalesce(conversions_value, 0) as original_conversions_value,
        currency as original_currency,
        -- The region of a geographic report's row; null in a report without regions.
        nullif(trim(geo), '') as geo,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
