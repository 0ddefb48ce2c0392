{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'geo', 'channel'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- Spend and measured conversions per day, geo and channel, where the data places them: ad
-- spend from the platforms' geographic reports (rows with a region), online purchases by the
-- visitor's region (GA4 `geo.region`, the purchase's first hit with one). What geo tests are
-- designed and read on (marketing_ops.experiments). A campaign report without regions, a CRM
-- deal or an offline conversion has no geo and is not here; fct_channel_kpis_daily counts
-- everything nationally. Conversions are the published ones (fct_conversions, after its gate).
-- A day with neither spend nor purchases in a geo has no row: read it as zero.
with spend as (
    select date_day, geo, channel, sum(spend) as spend
    from {{ ref('int_ad_spend__unioned') }}
    where geo is not null
      and {{ in_window('date_day') }}
    group by date_day, geo, channel
),

purchase_regions as (
    select
        'purchase:' || {{ ga4_purchase_key() }} as conversion_id,
        {{ first_in_order('region', 'event_at, _loaded_at') }} as geo
    from {{ ref('stg_ga4__events') }}
    where event_name = 'purchase'
      and region is not null
      and {{ in_window('date_day') }}
    group by 'purchase:' || {{ ga4_purchase_key() }}
),

purchases as (
    select
        conversions.date_day,
        purchase_regions.geo,
        conversions.channel,
        count(*) as conversions,
        sum(conversions.revenue) as revenue
    from {{ ref('fct_conversions') }} as conversions
    join purchase_regions on purchase_regions.conversion_id = conversions.conversion_id
    where conversions.conversion_type = 'online_purchase'
      and {{ in_window('conversions.date_day') }}
    group by conversions.date_day, purchase_regions.geo, conversions.channel
)

select
    coalesce(spend.date_day, purchases.date_day) as date_day,
    coalesce(spend.geo, purchases.geo) as geo,
    coalesce(spend.channel, purchases.channel) as channel,
    cast(coalesce(spend.spend, 0) as {{ type_double() }}) as spend,
    cast(coalesce(purchases.conversions, 0) as bigint) as conversions,
    cast(coalesce(purchases.revenue, 0) as {{ type_double() }}) as revenue
from spend
full outer join purchases
    on purchases.date_day = spend.date_day
   and purchases.geo = spend.geo
   and purchases.channel = spend.channel
