-- One row per CRM deal, its latest delivered state (a deal re-delivered with another stage
-- counts as that stage only), with the channel of its UTM tags.
with deals as (
    select * from {{ ref('stg_crm__deals') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by deal_id
            order by partition_date desc, _loaded_at desc, _line desc
        ) as recency_rank
    from deals
)

select
    deal_id,
    contact_key,
    created_at,
    deal_stage,
    is_won,
    amount,
    currency,
    closed_at,
    closed_on,
    traffic_source,
    traffic_medium,
    {{ channel_for('traffic_source', 'traffic_medium') }} as channel,
    campaign_id,
    utm_content,
    gclid,
    -- The day of the file that delivered this state (identity stitching reads new deals).
    partition_date
from ranked
where recency_rank = 1
