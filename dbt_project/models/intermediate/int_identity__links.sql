{{ config(materialized='table') }}

-- Identity stitching: which person a browser (GA4 user_pseudo_id) belongs to, and since when.
-- Two kinds of evidence link a browser to a CRM contact (keyed email, never the address):
--   login  the browser sent a GA4 user_id, which is the CRM contact id;
--   gclid  a CRM deal carries the Google click id of one of the browser's sessions.
-- The first link wins (a shared device stays with its first person). `linked_on` lets every
-- later model ask "who was this browser as of day D", so a later login never rewrites
-- journeys already reported for earlier days. Rebuilt on every run: links are few, and a
-- link found today may concern a browser first seen long ago.
with logins as (
    select
        events.user_pseudo_id,
        contacts.contact_key as person_id,
        min(events.event_at) as linked_at,
        'login' as link_source
    from {{ ref('stg_ga4__events') }} as events
    inner join {{ ref('int_contacts__latest') }} as contacts
        on contacts.contact_id = events.user_id
    where events.user_id is not null
    group by events.user_pseudo_id, contacts.contact_key
),

clicks as (
    select
        sessions.user_pseudo_id,
        deals.contact_key as person_id,
        -- Known once both the click and the deal are: the deal arrives on its close day.
        min(greatest(sessions.session_started_at, coalesce(deals.closed_at, deals.created_at))) as linked_at,
        'gclid' as link_source
    from {{ ref('int_sessions__tagged') }} as sessions
    inner join {{ ref('int_deals__latest') }} as deals
        on deals.gclid = sessions.gclid
    where sessions.gclid is not null
      and deals.contact_key is not null
    group by sessions.user_pseudo_id, deals.contact_key
),

links as (
    select * from logins
    union all
    select * from clicks
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_pseudo_id
            order by linked_at, person_id, link_source
        ) as link_rank
    from links
)

select
    user_pseudo_id,
    person_id,
    linked_at,
    cast(linked_at as date) as linked_on,
    link_source
from ranked
where link_rank = 1
