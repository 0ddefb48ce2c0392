{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'platform', 'campaign_id', 'ad_group_id', 'ad_id'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- Paid media per day, platform and campaign (Meta down to the ad), with the platforms' own
-- conversion claims kept apart from measured conversions. A geographic report's regions are
-- summed to the row's grain (fct_geo_kpis_daily keeps them apart).
select
    date_day,
    platform,
    account_id,
    campaign_id,
    campaign_name,
    ad_group_id,
    ad_id,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_content,
    cast(sum(impressions) as bigint) as impressions,
    cast(sum(clicks) as bigint) as clicks,
    sum(spend) as spend,
    sum(conversions) as conversions,
    sum(conversions_value) as conversions_value,
    currency
from {{ ref('int_ad_spend__unioned') }}
where {{ in_window('date_day') }}
group by date_day, platform, account_id, campaign_id, campaign_name, ad_group_id, ad_id,
         channel, utm_source, utm_medium, utm_campaign, utm_content, currency
