with source as (
    select * from {{ source('raw', 'crm_contacts') }}
),

renamed as (
    select
        contact_id,
        contact_key,
        phone_key,
        segment as audience_id,
        email_consent as is_email_consented,
        ads_consent as is_ads_consented,
        unsubscribed as is_unsubscribed,
        created_at,
        partition_date,
        _loaded_at,
        _line
    from source
)

select * from renamed
