-- The channel grouping in force: the data home's overrides (measurement.yaml) first, in their
-- order, then the default GA4-like rules of the `channel_grouping` seed. `priority` is the
-- order rules are tried in; the first rule matching both source and medium wins.
with overrides as (
    select * from {{ source('config', 'channel_grouping_overrides') }}
),

defaults as (
    select * from {{ ref('channel_grouping') }}
),

rules as (
    select
        0 as origin_rank,
        position as rule_rank,
        source_pattern,
        medium_pattern,
        channel,
        description,
        'measurement.yaml' as rule_origin
    from overrides
    union all
    select
        1 as origin_rank,
        priority as rule_rank,
        source_pattern,
        medium_pattern,
        channel,
        description,
        'seeds/channel_grouping.csv' as rule_origin
    from defaults
)

select
    cast(row_number() over (order by origin_rank, rule_rank) as integer) as priority,
    source_pattern,
    medium_pattern,
    channel,
    description,
    rule_origin
from rules
