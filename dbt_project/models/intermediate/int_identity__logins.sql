{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['user_pseudo_id', 'user_id'],
        on_schema_change='fail'
    )
}}

-- The login evidence of identity stitching, kept as state: each browser (GA4 user_pseudo_id)
-- with each CRM contact id (GA4 user_id) it logged in as, and the first time it did. A run
-- reads only its window's events and merges them with the rows already known, so a login
-- years ago is still the first one without reading those years again.
with window_logins as (
    select user_pseudo_id, user_id, min(event_at) as first_login_at
    from {{ ref('stg_ga4__events') }}
    where user_id is not null
      and {{ in_window('date_day') }}
    group by user_pseudo_id, user_id
),

logins as (
    select * from window_logins
    {% if is_incremental() %}
    union all
    select known.user_pseudo_id, known.user_id, known.first_login_at
    from {{ this }} as known
    inner join window_logins
        on window_logins.user_pseudo_id = known.user_pseudo_id
       and window_logins.user_id = known.user_id
    {% endif %}
)

select
    user_pseudo_id,
    user_id,
    min(first_login_at) as first_login_at,
    cast(min(first_login_at) as date) as date_day
from logins
group by user_pseudo_id, user_id
