with source as (
    select * from {{ source('raw', 'email_events') }}
),

renamed as (
    select
        event_id,
        event_ts as event_at,
        cast(event_ts as date) as date_day,
        event_type,
        contact_key,
        message_id,
        campaign_id,
        content_id as asset_id,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
