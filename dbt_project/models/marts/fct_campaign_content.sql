-- Which content each campaign used: email sends per campaign and asset (the ad platforms'
-- reports carry no asset ids). The knowledge graph turns these into USES edges.
select
    campaign_id,
    asset_id,
    'email' as channel,
    count(*) as sends,
    min(event_at) as first_sent_at,
    max(event_at) as last_sent_at
from {{ ref('stg_email__events') }}
where event_type = 'send'
  and campaign_id is not null
  and asset_id is not null
group by campaign_id, asset_id
