{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail',
        tags=['publish']
    )
}}

{%- set start_date = window_date('start_date') -%}
{%- set end_date = window_date('end_date') -%}
{%- set methods = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based'] -%}

-- What each channel brought, per day, under seven attribution methods side by side: five
-- rules over each conversion's journey (first touch, last touch, linear, time decay,
-- position-based, from fct_touchpoints' credits) and two data-driven models (Markov removal
-- effect and Shapley value, weights from marketing_ops.measurement.attribution). Each
-- method gives every conversion a credit of exactly 1 spread over the channels of its
-- journey, so each method's column sums, per day, to the day's conversions. Every channel
-- on every day (zero-filled). Credits are on the conversion day; revenue is credited in the
-- same shares. `conversions` is the count by the conversion's own channel, as in
-- fct_channel_kpis_daily.
with touches as (
    select * from {{ ref('int_journeys__touchpoints') }}
    where is_converted and {{ in_window('date_day') }}
),

journeys as (
    select * from {{ ref('int_journeys__paths') }}
    where is_converted and {{ in_window('date_day') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
    where {{ in_window('date_day') }}
),

weights as (
    select * from {{ source('attribution', 'data_driven_weights') }}
    where {{ in_window('date_day') }}
),

rule_based as (
    select
        touches.date_day,
        touches.channel,
        {%- for method in methods %}
        sum(touches.{{ method }}_credit) as {{ method }},
        sum(touches.{{ method }}_credit * journeys.revenue) as {{ method }}_revenue{{ ',' if not loop.last }}
        {%- endfor %}
    from touches
    inner join journeys on journeys.journey_id = touches.journey_id
    group by touches.date_day, touches.channel
),

data_driven as (
    select
        journeys.date_day,
        weights.channel,
        sum(weights.markov) as markov,
        sum(weights.markov * journeys.revenue) as markov_revenue,
        sum(weights.shapley) as shapley,
        sum(weights.shapley * journeys.revenue) as shapley_revenue
    from journeys
    inner join weights
        on weights.date_day = journeys.date_day
       and weights.channel_set = journeys.channel_set
    group by journeys.date_day, weights.channel
),

measured as (
    select date_day, channel, count(*) as conversions, sum(revenue) as revenue
    from conversions
    group by date_day, channel
),

bounds as (
    select
        least(min(date_day), {% if start_date %}cast('{{ start_date }}' as date){% else %}min(date_day){% endif %}) as start_day,
        greatest(max(date_day), {% if end_date %}cast('{{ end_date }}' as date){% else %}max(date_day){% endif %}) as end_day
    from conversions
),

spine as (
    select days.date_day, channels.channel
    from ({{ day_spine('bounds') }}) as days
    cross join {{ ref('dim_channel') }} as channels
)

select
    spine.date_day,
    spine.channel,
    cast(coalesce(measured.conversions, 0) as bigint) as conversions,
    cast(coalesce(measured.revenue, 0) as {{ type_double() }}) as revenue,
    {%- for method in methods %}
    cast(coalesce(rule_based.{{ method }}, 0) as {{ type_double() }}) as {{ method }},
    {%- endfor %}
    cast(coalesce(data_driven.markov, 0) as {{ type_double() }}) as markov,
    cast(coalesce(data_driven.shapley, 0) as {{ type_double() }}) as shapley,
    {%- for method in methods %}
    cast(coalesce(rule_based.{{ method }}_revenue, 0) as {{ type_double() }}) as {{ method }}_revenue,
    {%- endfor %}
    cast(coalesce(data_driven.markov_revenue, 0) as {{ type_double() }}) as markov_revenue,
    cast(coalesce(data_driven.shapley_revenue, 0) as {{ type_double() }}) as shapley_revenue,
    {{ lookback_days() }} as lookback_days
from spine
left join measured
    on measured.date_day = spine.date_day and measured.channel = spine.channel
left join rule_based
    on rule_based.date_day = spine.date_day and rule_based.channel = spine.channel
left join data_driven
    on data_driven.date_day = spine.date_day and data_driven.channel = spine.channel
where {{ in_window('spine.date_day') }}
