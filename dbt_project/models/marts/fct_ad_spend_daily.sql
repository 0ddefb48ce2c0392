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
-- conversion claims kept apart from measured conversions.
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
    impressions,
    clicks,
    spend,
    conversions,
    conversions_value,
    currency
from {{ ref('int_ad_spend__unioned') }}
where {{ in_window('date_day') }}
