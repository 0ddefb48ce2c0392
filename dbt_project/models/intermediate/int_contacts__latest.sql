-- The current state of each contact: contacts files carry new or changed contacts, so the
-- latest delivered row wins (file day, load time, line).
with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by contact_key
            order by partition_date desc, _loaded_at desc, _line desc
        ) as recency_rank
    from contacts
    where contact_key is not null
)

select
    contact_id,
    contact_key,
    phone_key,
    audience_id,
    is_email_consented,
    is_ads_consented,
    is_unsubscribed,
    created_at,
    -- The day of the file that delivered this row (identity stitching reads new contacts).
    partition_date
from ranked
where recency_rank = 1
