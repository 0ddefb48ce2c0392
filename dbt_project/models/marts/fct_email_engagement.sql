{{ config(tags=['publish']) }}

-- Email engagement per audience and content asset: what the agent learns which asset works
-- for which audience from. A conversion counts for an asset when the contact's last email
-- click before an email-channel conversion was on that asset, within
-- `email_attribution_days`. Built in the publish step: it reads conversions, so it waits for
-- their gate.
with contacts as (
    select * from {{ ref('int_contacts__latest') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
    where channel = 'email' and contact_key is not null
),

messages as (
    -- One row per contact, asset and message (an event without message id is its own): one
    -- pass over every email event before anything joins them. Joining every event to its
    -- contact first and counting distinct messages per audience after took 2 s a day at two
    -- years of a 50,000-contact list. (stg_email__events is read here and in `clicks`, not
    -- through one CTE: DuckDB would materialise a CTE read twice, every event ever.)
    select
        contact_key,
        asset_id,
        count(*) filter (where event_type = 'send') as sends,
        -- Unique opens and clicks: one per message, however often it was opened.
        max(case when event_type = 'open' then 1 else 0 end) as opened,
        max(case when event_type = 'click' then 1 else 0 end) as clicked,
        max(event_at) as last_seen_at
    from {{ ref('stg_email__events') }}
    where asset_id is not null
    group by contact_key, asset_id, coalesce(message_id, event_id)
),

engagement as (
    -- Contacts the CRM does not know have no audience and are left out.
    select
        contacts.audience_id,
        messages.asset_id,
        cast(sum(messages.sends) as {{ dbt.type_bigint() }}) as sends,
        cast(sum(messages.opened) as {{ dbt.type_bigint() }}) as opens,
        cast(sum(messages.clicked) as {{ dbt.type_bigint() }}) as clicks,
        max(messages.last_seen_at) as last_seen_at
    from messages
    inner join contacts on contacts.contact_key = messages.contact_key
    group by contacts.audience_id, messages.asset_id
),

clicks as (
    select events.contact_key, events.asset_id, events.event_at, contacts.audience_id
    from {{ ref('stg_email__events') }} as events
    inner join contacts on contacts.contact_key = events.contact_key
    where events.asset_id is not null and events.event_type = 'click'
),

last_clicks as (
    select
        conversions.conversion_id,
        {{ arg_max('clicks.asset_id', 'clicks.event_at') }} as asset_id,
        {{ arg_max('clicks.audience_id', 'clicks.event_at') }} as audience_id
    from conversions
    inner join clicks
        on clicks.contact_key = conversions.contact_key
       and clicks.event_at <= conversions.converted_at
       and clicks.event_at >= conversions.converted_at - {{ days_interval(number_var('email_attribution_days', 0, 365, integer=true)) }}
    group by conversions.conversion_id
),

attributed as (
    select audience_id, asset_id, count(*) as conversions
    from last_clicks
    group by audience_id, asset_id
)

select
    engagement.audience_id,
    engagement.asset_id,
    'email' as channel,
    engagement.sends,
    engagement.opens,
    engagement.clicks,
    coalesce(attributed.conversions, 0) as conversions,
    engagement.last_seen_at
from engagement
left join attributed
    on attributed.audience_id = engagement.audience_id
   and attributed.asset_id = engagement.asset_id
