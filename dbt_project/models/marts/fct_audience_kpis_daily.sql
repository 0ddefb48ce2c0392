{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'audience_id'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

{%- set start_date = window_date('start_date') -%}
{%- set end_date = window_date('end_date') -%}

-- Measured business conversions and revenue per audience and day, every audience on every
-- day (zero-filled): the forecasts fit a baseline per audience segment from it. A conversion
-- belongs to the audience its contact was in on the conversion day (the latest contacts row
-- delivered by then), so a day's rows never depend on which days a run covers; conversions
-- without a known contact (anonymous purchases, offline-only imports) are in no audience.
with conversions as (
    select * from {{ ref('fct_conversions') }}
),

contact_rows as (
    select
        contact_key,
        audience_id,
        partition_date as valid_from,
        row_number() over (
            partition by contact_key, partition_date
            order by _loaded_at desc, _line desc
        ) as recency_rank
    from {{ ref('stg_crm__contacts') }}
    where contact_key is not null and audience_id is not null
),

memberships as (
    select
        contact_key,
        audience_id,
        valid_from,
        lead(valid_from) over (partition by contact_key order by valid_from) as valid_until
    from contact_rows
    where recency_rank = 1
),

bounds as (
    select
        least(min(date_day), {% if start_date %}cast('{{ start_date }}' as date){% else %}min(date_day){% endif %}) as start_day,
        greatest(max(date_day), {% if end_date %}cast('{{ end_date }}' as date){% else %}max(date_day){% endif %}) as end_day
    from conversions
),

days as (
    {{ day_spine('bounds') }}
),

spine as (
    -- The audiences that had members on each day.
    select distinct days.date_day, memberships.audience_id
    from days
    inner join memberships
        on memberships.valid_from <= days.date_day
       and (memberships.valid_until is null or days.date_day < memberships.valid_until)
),

measured as (
    select
        conversions.date_day,
        memberships.audience_id,
        count(*) as conversions,
        sum(conversions.revenue) as revenue
    from conversions
    inner join memberships
        on memberships.contact_key = conversions.contact_key
       and memberships.valid_from <= conversions.date_day
       and (memberships.valid_until is null or conversions.date_day < memberships.valid_until)
    group by conversions.date_day, memberships.audience_id
)

select
    spine.date_day,
    spine.audience_id,
    cast(coalesce(measured.conversions, 0) as bigint) as conversions,
    cast(coalesce(measured.revenue, 0) as {{ type_double() }}) as revenue
from spine
left join measured
    on measured.date_day = spine.date_day and measured.audience_id = spine.audience_id
where {{ in_window('spine.date_day') }}
