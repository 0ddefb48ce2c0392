with source as (
    select * from {{ source('raw', 'crm_deals') }}
),

renamed as (
    select
        deal_id,
        contact_key,
        created_at,
        stage as deal_stage,
        stage = 'closedwon' as is_won,
        -- Money in the reporting currency; the file's amount and currency kept beside it.
        {{ reporting_amount('amount') }} as amount,
        '{{ reporting_currency() }}' as currency,
        amount as original_amount,
        currency as original_currency,
        closed_at,
        cast(closed_at as date) as closed_on,
        coalesce(
            nullif(lower(trim(utm_source)), ''),
            case when gclid is not null then 'google' end,
            '(direct)'
        ) as traffic_source,
        coalesce(
            nullif(lower(trim(utm_medium)), ''),
            case when gclid is not null then 'cpc' end,
            '(none)'
        ) as traffic_medium,
        utm_campaign as campaign_id,
        utm_content,
        gclid,
        partition_date,
        _loaded_at,
        _line
    from source
)

select * from renamed
