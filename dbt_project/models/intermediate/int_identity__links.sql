{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_pseudo_id',
        on_schema_change='fail'
    )
}}

-- Identity stitching: which person a browser (GA4 user_pseudo_id) belongs to, and since when.
-- Two kinds of evidence link a browser to a CRM contact (keyed email, never the address):
--   login  the browser sent a GA4 user_id, which is the CRM contact id (int_identity__logins);
--   gclid  a CRM deal carries the Google click id of one of the browser's sessions.
-- The first link wins (a shared device stays with its first person). `linked_on` lets every
-- later model ask "who was this browser as of day D", so a later login never rewrites
-- journeys already reported for earlier days.
--
-- Incremental: a run weighs only the evidence its window completes (a login or a contact
-- delivered in it; a deal delivered in it, or a session in it, with a GCLID) against the
-- browsers' links so far, and keeps the earliest. Each piece of evidence is weighed by the run
-- of the day its second half arrives, so the result equals a rebuild over all history.
-- Every delivered version of a deal is evidence, not only its latest: a deal re-delivered
-- closed on a later day does not move a link a day's run already made from its earlier
-- version (a rebuild from the latest versions alone dated it by the re-delivery).
with contacts as (
    select * from {{ ref('int_contacts__latest') }}
),

deals as (
    select gclid, contact_key, closed_at, created_at, partition_date
    from {{ ref('stg_crm__deals') }}
    where gclid is not null and contact_key is not null
),

logins as (
    select * from {{ ref('int_identity__logins') }}
),

window_logins as (
    select distinct user_pseudo_id, user_id
    from {{ ref('stg_ga4__events') }}
    where user_id is not null and {{ in_window('date_day') }}
),

login_links as (
    select
        logins.user_pseudo_id,
        contacts.contact_key as person_id,
        logins.first_login_at as linked_at,
        'login' as link_source
    from logins
    inner join contacts on contacts.contact_id = logins.user_id
    {% if is_incremental() %}
    where {{ in_window('contacts.partition_date') }}
       or exists (
            select 1 from window_logins
            where window_logins.user_pseudo_id = logins.user_pseudo_id
              and window_logins.user_id = logins.user_id
       )
    {% endif %}
),

click_pairs as (
    -- A session and a deal with the same GCLID, either of them in the window. Two halves
    -- instead of one join with `or`: the `or` joined every GCLID session ever to every deal
    -- and filtered after (2-3 s a day at two years); each half starts from the window.
    -- (int_sessions__tagged read in each half, not through one CTE: DuckDB would materialise a
    -- CTE read twice, every GCLID session ever.)
    select sessions.user_pseudo_id, sessions.session_started_at, deals.contact_key, deals.closed_at, deals.created_at
    from {{ ref('int_sessions__tagged') }} as sessions
    inner join deals on deals.gclid = sessions.gclid
    where sessions.gclid is not null and {{ in_window('sessions.date_day') }}
    {%- if is_incremental() %}
    union all
    select sessions.user_pseudo_id, sessions.session_started_at, deals.contact_key, deals.closed_at, deals.created_at
    from deals
    inner join (
        -- the sessions of the GCLIDs on deal rows delivered in the window, looked up first:
        -- joined to every deal version DuckDB would scan every session
        select * from {{ ref('int_sessions__tagged') }}
        where gclid in (
            select gclid from {{ ref('stg_crm__deals') }}
            where gclid is not null and {{ in_window('partition_date') }}
        )
    ) as sessions on sessions.gclid = deals.gclid
    where {{ in_window('deals.partition_date') }}
    {%- endif %}
),

click_links as (
    select
        user_pseudo_id,
        contact_key as person_id,
        -- Known once both the click and the deal are: the deal arrives on its close day.
        min(greatest(session_started_at, coalesce(closed_at, created_at))) as linked_at,
        'gclid' as link_source
    from click_pairs
    group by user_pseudo_id, contact_key
),

candidates as (
    select * from login_links
    union all
    select * from click_links
    {% if is_incremental() %}
    union all
    select known.user_pseudo_id, known.person_id, known.linked_at, known.link_source
    from {{ this }} as known
    where known.user_pseudo_id in (select user_pseudo_id from login_links)
       or known.user_pseudo_id in (select user_pseudo_id from click_links)
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_pseudo_id
            order by linked_at, person_id, link_source
        ) as link_rank
    from candidates
)

select
    user_pseudo_id,
    person_id,
    linked_at,
    cast(linked_at as date) as linked_on,
    link_source
from ranked
where link_rank = 1
