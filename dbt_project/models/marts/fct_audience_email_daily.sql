{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'audience_id'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- Email sends per audience and day, and how many contacts received one: the knowledge graph
-- turns the last 7 days into sends per contact, which the frequency cap is checked against.
with sends as (
    select * from {{ ref('stg_email__events') }}
    where event_type = 'send'
      and {{ in_window('date_day') }}
),

contacts as (
    select * from {{ ref('int_contacts__latest') }}
)

select
    sends.date_day,
    contacts.audience_id,
    count(*) as sends,
    count(distinct sends.contact_key) as contacts_sent
from sends
inner join contacts on contacts.contact_key = sends.contact_key
where contacts.audience_id is not null
group by sends.date_day, contacts.audience_id
