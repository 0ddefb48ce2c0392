-- Google Ads and Meta Ads on one vocabulary (the fivetran ad_reporting names), each row with
-- its channel. Google reports per campaign, Meta per ad: rows keep the finest grain the
-- platform gives; sum by campaign for campaign totals.
with google_ads as (
    select * from {{ ref('stg_google_ads__campaign_stats') }}
),

meta_ads as (
    select * from {{ ref('stg_meta_ads__ad_stats') }}
),

unioned as (
    select date_day, platform, account_id, campaign_id, campaign_name, ad_group_id, ad_id,
           impressions, clicks, spend, conversions, conversions_value, currency, geo
    from google_ads
    union all
    select date_day, platform, account_id, campaign_id, campaign_name, ad_group_id, ad_id,
           impressions, clicks, spend, conversions, conversions_value, currency, geo
    from meta_ads
),

channelled as (
    select
        *,
        {{ ad_channel('platform', 'campaign_name') }} as channel
    from unioned
)

select
    channelled.*,
    -- The tags the ad's clicks arrive with (seed ad_tagging): the key to its sessions.
    tagging.utm_source,
    tagging.utm_medium,
    channelled.campaign_id as utm_campaign,
    channelled.ad_id as utm_content
from channelled
left join {{ ref('ad_tagging') }} as tagging on tagging.channel = channelled.channel
