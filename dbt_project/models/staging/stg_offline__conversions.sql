with source as (
    select * from {{ source('raw', 'offline_conversions') }}
),

renamed as (
    select
        gclid,
        conversion_name,
        conversion_ts as converted_at,
        cast(conversion_ts as date) as date_day,
        conversion_value,
        currency,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
