{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

{%- set start_date = window_date('start_date') -%}
{%- set end_date = window_date('end_date') -%}

-- Every channel on every day, zero-filled: forecasts need a row for a day without spend or
-- sales, not a gap. Spend and platform claims come from the ad platforms (email: sends x
-- cost per send); conversions and revenue are measured ones (int_conversions__deduplicated),
-- side by side with what the platforms claim. These are the rows fct_channel_kpis_daily
-- publishes once the `marts.fct_channel_kpis_daily` expectation suite passed on them.
with ad_spend as (
    select * from {{ ref('fct_ad_spend_daily') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
),

deals as (
    select * from {{ ref('int_deals__latest') }}
),

email_sends as (
    select date_day, count(*) as sends
    from {{ ref('stg_email__events') }}
    where event_type = 'send'
    group by date_day
),

data_days as (
    select date_day from ad_spend
    union all select date_day from conversions
    union all select closed_on from deals
    union all select date_day from email_sends
),

bounds as (
    -- The days with any data, widened to the run's window so a window day without data
    -- still gets its zero rows.
    select
        least(min(date_day), {% if start_date %}cast('{{ start_date }}' as date){% else %}min(date_day){% endif %}) as start_day,
        greatest(max(date_day), {% if end_date %}cast('{{ end_date }}' as date){% else %}max(date_day){% endif %}) as end_day
    from data_days
),

spine as (
    select days.date_day, channels.channel
    from ({{ day_spine('bounds') }}) as days
    cross join {{ ref('dim_channel') }} as channels
),

spend_by_channel as (
    select
        date_day,
        channel,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as platform_conversions,
        sum(conversions_value) as platform_conversions_value
    from ad_spend
    group by date_day, channel
    union all
    select
        date_day,
        'email' as channel,
        sends * {{ var('email_cost_per_send') }} as spend,
        0 as impressions,
        0 as clicks,
        0 as platform_conversions,
        0 as platform_conversions_value
    from email_sends
),

measured as (
    select
        date_day,
        channel,
        count(*) as conversions,
        sum(revenue) as revenue,
        count(*) filter (where conversion_type = 'deal_won') as deals_won
    from conversions
    group by date_day, channel
),

lost_deals as (
    select closed_on as date_day, channel, count(*) as deals_lost
    from deals
    where not is_won and closed_on is not null
    group by closed_on, channel
),

daily as (
    select
        spine.date_day,
        spine.channel,
        coalesce(sum(spend_by_channel.spend), 0) as spend,
        coalesce(sum(spend_by_channel.impressions), 0) as impressions,
        coalesce(sum(spend_by_channel.clicks), 0) as clicks,
        coalesce(sum(spend_by_channel.platform_conversions), 0) as platform_conversions,
        coalesce(sum(spend_by_channel.platform_conversions_value), 0) as platform_conversions_value
    from spine
    left join spend_by_channel
        on spend_by_channel.date_day = spine.date_day
       and spend_by_channel.channel = spine.channel
    group by spine.date_day, spine.channel
),

kpis as (
    select
        daily.date_day,
        daily.channel,
        cast(daily.spend as {{ type_double() }}) as spend,
        cast(daily.impressions as bigint) as impressions,
        cast(daily.clicks as bigint) as clicks,
        cast(daily.platform_conversions as {{ type_double() }}) as platform_conversions,
        cast(daily.platform_conversions_value as {{ type_double() }}) as platform_conversions_value,
        cast(coalesce(measured.conversions, 0) as bigint) as conversions,
        cast(coalesce(measured.revenue, 0) as {{ type_double() }}) as revenue,
        cast(coalesce(measured.deals_won, 0) as bigint) as deals_won,
        cast(coalesce(lost_deals.deals_lost, 0) as bigint) as deals_lost
    from daily
    left join measured
        on measured.date_day = daily.date_day and measured.channel = daily.channel
    left join lost_deals
        on lost_deals.date_day = daily.date_day and lost_deals.channel = daily.channel
)

select
    *,
    case when deals_won + deals_lost > 0
        then cast(deals_won as {{ type_double() }}) / (deals_won + deals_lost) end as win_rate,
    case when conversions > 0 then spend / conversions end as cac,
    case when spend > 0 then revenue / spend end as roas,
    -- The same ratios on the platforms' own claims, to read beside the measured ones.
    case when platform_conversions > 0 then spend / platform_conversions end as platform_cac,
    case when spend > 0 then platform_conversions_value / spend end as platform_roas
from kpis
where {{ in_window('date_day') }}
