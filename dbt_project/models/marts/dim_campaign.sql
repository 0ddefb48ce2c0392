-- Campaigns the ad platforms and the email platform report, each with its channel. The name
-- is the latest the platform reported (campaigns get renamed).
with ad_campaigns as (
    select
        campaign_id,
        {{ arg_max('campaign_name', 'date_day') }} as campaign_name,
        {{ arg_max('platform', 'date_day') }} as platform,
        {{ arg_max('channel', 'date_day') }} as channel
    from {{ ref('int_ad_spend__unioned') }}
    group by campaign_id
),

email_campaigns as (
    select distinct
        campaign_id,
        -- Email campaign ids are readable (`em-<yyyymmdd>-<segment>` or a decision id).
        campaign_id as campaign_name,
        'email' as platform,
        'email' as channel
    from {{ ref('stg_email__events') }}
    where campaign_id is not null
      and campaign_id not in (select campaign_id from ad_campaigns)
)

select campaign_id, campaign_name, platform, channel from ad_campaigns
union all
select campaign_id, campaign_name, platform, channel from email_campaigns
