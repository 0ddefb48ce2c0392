with source as (
    select * from {{ source('raw', 'offline_conversions') }}
),

renamed as (
    select
        gclid,
        conversion_name,
        conversion_ts as converted_at,
        cast(conversion_ts as date) as date_day,
        -- Money in the reporting currency; the file's amount and currency kept beside it.
        {{ reporting_amount('conversion_value') }} as conversion_value,
        '{{ reporting_currency() }}' as currency,
        conversion_value as original_conversion_value,
        currency as original_currency,
        partition_date,
        _loaded_at
    from source
)

select * from renamed
