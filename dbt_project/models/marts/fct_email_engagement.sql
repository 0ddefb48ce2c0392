{{ config(tags=['publish']) }}

-- Email engagement per audience and content asset: what the agent learns which asset works
-- for which audience from. A conversion counts for an asset when the contact's last email
-- click before an email-channel conversion was on that asset, within
-- `email_attribution_days`. Built in the publish step: it reads conversions, so it waits for
-- their gate.
with events as (
    select * from {{ ref('stg_email__events') }}
    where asset_id is not null
),

contacts as (
    select * from {{ ref('int_contacts__latest') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
    where channel = 'email' and contact_key is not null
),

audience_events as (
    -- Events of contacts the CRM does not know have no audience and are left out.
    select events.*, contacts.audience_id
    from events
    inner join contacts on contacts.contact_key = events.contact_key
),

engagement as (
    select
        audience_id,
        asset_id,
        count(*) filter (where event_type = 'send') as sends,
        -- Unique opens and clicks: one per message, however often it was opened.
        count(distinct coalesce(message_id, event_id)) filter (where event_type = 'open') as opens,
        count(distinct coalesce(message_id, event_id)) filter (where event_type = 'click') as clicks,
        max(event_at) as last_seen_at
    from audience_events
    group by audience_id, asset_id
),

last_clicks as (
    select
        conversions.conversion_id,
        {{ arg_max('audience_events.asset_id', 'audience_events.event_at') }} as asset_id,
        {{ arg_max('audience_events.audience_id', 'audience_events.event_at') }} as audience_id
    from conversions
    inner join audience_events
        on audience_events.contact_key = conversions.contact_key
       and audience_events.event_type = 'click'
       and audience_events.event_at <= conversions.converted_at
       and audience_events.event_at >= conversions.converted_at - {{ days_interval(number_var('email_attribution_days', 0, 365, integer=true)) }}
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
