{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversion_id',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- One row per business conversion, with the channel its source/medium maps to, the agent
-- decision that caused it (when one did) and the person it belongs to. These are the rows
-- fct_conversions publishes once the `marts.fct_conversions` expectation suite passed on them
-- (write, audit, publish): decisions never read a conversion that failed the gate.
with conversions as (
    select * from {{ ref('int_conversions__unioned') }}
    where {{ in_window('date_day') }}
),

links as (
    select * from {{ ref('int_identity__links') }}
),

gclid_sessions as (
    -- The first visit of each Google click: the browser behind a deal or offline conversion
    -- (of the window's clicks only: a click's first visit is over all its sessions, so
    -- reading only those clicks changes nothing and skips every other session).
    select
        gclid,
        {{ first_in_order('session_key', 'session_started_at, session_key') }} as session_key,
        {{ first_in_order('user_pseudo_id', 'session_started_at, session_key') }} as user_pseudo_id
    from {{ ref('int_sessions__tagged') }}
    where gclid in (select gclid from conversions)
    group by gclid
),

restated as (
    -- The window's conversions that an earlier run reported on another day (a deal closed
    -- again later, a purchase whose earlier hit arrived late): the rows delete+insert is about
    -- to replace. The journey models clear those conversions' journeys by this date
    -- (macro clear_restated_journeys) instead of looking every journey up by key.
    {%- if is_incremental() %}
    -- clear_window ran first: whatever is left of these conversions lies outside the window
    select conversion_id, max(date_day) as restated_from
    from {{ this }}
    where conversion_id in (select conversion_id from conversions)
    group by conversion_id
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as conversion_id, cast(null as date) as restated_from
    where false
    {%- endif %}
),

located as (
    select
        conversions.*,
        coalesce(conversions.session_key, gclid_sessions.session_key) as own_session_key,
        coalesce(conversions.user_pseudo_id, gclid_sessions.user_pseudo_id) as browser_id
    from conversions
    left join gclid_sessions on gclid_sessions.gclid = conversions.gclid
)

select
    located.conversion_id,
    located.converted_at,
    located.date_day,
    located.conversion_type,
    located.source_system,
    {{ channel_for('located.traffic_source', 'located.traffic_medium') }} as channel,
    located.campaign_id,
    located.decision_id,
    located.contact_key,
    located.revenue,
    -- Who converted, as of the conversion day: the CRM contact of a deal, else the person the
    -- browser was linked to by then, else the browser (or the click) itself.
    case
        when located.contact_key is not null and located.source_system = 'crm' then located.contact_key
        when links.linked_on <= located.date_day then links.person_id
        when located.browser_id is not null then 'anon:' || located.browser_id
        when located.gclid is not null then 'gclid:' || located.gclid
        else 'conversion:' || located.conversion_id
    end as person_id,
    located.own_session_key,
    located.originated_at,
    restated.restated_from
from located
left join links on links.user_pseudo_id = located.browser_id
left join restated on restated.conversion_id = located.conversion_id
{{ order_full_build_by('located.date_day') }}
