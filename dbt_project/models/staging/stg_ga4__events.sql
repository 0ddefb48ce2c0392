with source as (
    select * from {{ source('raw', 'ga4_events') }}
),

renamed as (
    select
        event_date as date_day,
        event_ts as event_at,
        event_name,
        user_pseudo_id,
        user_id,
        session_id,
        -- A session is a GA4 session id within one browser (user_pseudo_id).
        user_pseudo_id || ':' || coalesce(cast(session_id as varchar), '') as session_key,
        page_location,
        coalesce(
            nullif(lower(trim(source)), ''),
            case when gclid is not null then 'google' end,
            '(direct)'
        ) as traffic_source,
        coalesce(
            nullif(lower(trim(medium)), ''),
            case when gclid is not null then 'cpc' end,
            '(none)'
        ) as traffic_medium,
        campaign_name,
        campaign_id,
        content,
        gclid,
        -- Money in the reporting currency; the file's amount and currency kept beside it.
        {{ reporting_amount('revenue') }} as revenue,
        '{{ reporting_currency() }}' as currency,
        revenue as original_revenue,
        currency as original_currency,
        transaction_id,
        device_category,
        country,
        nullif(trim(region), '') as region,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
