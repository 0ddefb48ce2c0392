-- Every marketing touch (a GA4 session: a visit from a source/medium) with the person it
-- belongs to as of the day it happened: the linked CRM contact when the browser was already
-- linked then, else the browser itself (`anon:<user_pseudo_id>`). The link columns let a
-- journey ask who the browser was as of its conversion day instead.
with sessions as (
    select * from {{ ref('int_sessions__tagged') }}
),

links as (
    select * from {{ ref('int_identity__links') }}
)

select
    sessions.session_key as touch_id,
    'session' as touch_type,
    sessions.session_started_at as touched_at,
    sessions.date_day as touched_on,
    sessions.user_pseudo_id,
    case
        when links.linked_on <= sessions.date_day then links.person_id
        else 'anon:' || sessions.user_pseudo_id
    end as person_id,
    links.person_id as linked_person_id,
    links.linked_on,
    sessions.channel,
    sessions.traffic_source,
    sessions.traffic_medium,
    sessions.campaign_id,
    sessions.gclid
from sessions
left join links on links.user_pseudo_id = sessions.user_pseudo_id
