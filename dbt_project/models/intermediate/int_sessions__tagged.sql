{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='session_key',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- One row per GA4 session, on the day it started, with the channel its traffic source maps
-- to. The session's tags come from its first event: GA4 repeats the session's collected
-- traffic source on its events, but a later event may lack it. Incremental per day: a run
-- reads its days plus one on each side (a session may cross midnight) and writes the
-- sessions that started on its days.
with events as (
    select * from {{ ref('stg_ga4__events') }}
    where {{ in_window('date_day', days_before=1, days_after=1) }}
),

sessions as (
    select
        session_key,
        min(event_at) as session_started_at,
        min(date_day) as date_day,
        -- arg_min (DuckDB's min_by) keeps one value per session (an ordered first() buffers
        -- them all: at 100k events a day that is the difference between megabytes and
        -- gigabytes). PostgreSQL has no min_by: there it is an ordered array_agg.
        {{ arg_min('user_pseudo_id', 'event_at') }} as user_pseudo_id,
        {{ arg_min('user_id', 'event_at', where='user_id is not null') }} as user_id,
        {{ arg_min('traffic_source', 'event_at') }} as traffic_source,
        {{ arg_min('traffic_medium', 'event_at') }} as traffic_medium,
        {{ arg_min('campaign_id', 'event_at', where='campaign_id is not null') }} as campaign_id,
        {{ arg_min('campaign_name', 'event_at', where='campaign_name is not null') }} as campaign_name,
        {{ arg_min('content', 'event_at', where='content is not null') }} as content,
        {{ arg_min('gclid', 'event_at', where='gclid is not null') }} as gclid,
        count(*) as events,
        count(*) filter (where event_name = 'purchase') as purchases
    from events
    group by session_key
)

select
    sessions.*,
    {{ channel_for('sessions.traffic_source', 'sessions.traffic_medium') }} as channel
from sessions
where {{ in_window('sessions.date_day') }}
{{ order_full_build_by('sessions.date_day') }}
