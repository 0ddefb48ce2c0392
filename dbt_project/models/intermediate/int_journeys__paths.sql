{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ clear_window('date_day') }}", "{{ clear_restated_journeys() }}"],
        on_schema_change='fail'
    )
}}

-- One row per journey: its path of channels in touch order (`paid_social > email`), its
-- channel set (distinct channels, sorted: `email|paid_social`) and how it ended.
with touches as (
    select * from {{ ref('int_journeys__touchpoints') }}
    where {{ in_window('date_day') }}
),

conversions as (
    -- a converting journey is reported on its conversion's day: the window's conversions
    -- are all it can join (reading every conversion grew the day's cost with history)
    select conversion_id, conversion_type, revenue
    from {{ ref('int_conversions__deduplicated') }}
    where {{ in_window('date_day') }}
)

select
    touches.date_day,
    touches.journey_id,
    touches.is_converted,
    touches.conversion_id,
    conversions.conversion_type,
    touches.person_id,
    min(touches.touched_at) as started_at,
    touches.ended_at,
    cast(count(*) as integer) as touches,
    cast({{ count_distinct('touches.channel') }} as integer) as channels,
    string_agg(touches.channel, ' > ' order by touches.touch_position) as path,
    {{ distinct_sorted_join('touches.channel', "'|'") }} as channel_set,
    {{ arg_min('touches.channel', 'touches.touch_position') }} as first_channel,
    {{ arg_max('touches.channel', 'touches.touch_position') }} as last_channel,
    {{ dbt.datediff('cast(min(touches.touched_at) as date)', 'cast(touches.ended_at as date)', 'day') }} as days_to_end,
    coalesce(conversions.revenue, 0) as revenue
from touches
left join conversions on conversions.conversion_id = touches.conversion_id
group by
    touches.date_day,
    touches.journey_id,
    touches.is_converted,
    touches.conversion_id,
    conversions.conversion_type,
    touches.person_id,
    touches.ended_at,
    conversions.revenue
{{ order_full_build_by('touches.date_day') }}
