-- When each audience opens and clicks, by UTC hour of day: the send-time decision picks the
-- hour from here. Every hour of every audience with email activity has a row (zero-filled).
with events as (
    select * from {{ ref('stg_email__events') }}
    where event_type in ('open', 'click')
),

contacts as (
    select * from {{ ref('int_contacts__latest') }}
),

audience_events as (
    select contacts.audience_id, events.event_type, cast(extract(hour from events.event_at) as integer) as hour_of_day
    from events
    inner join contacts on contacts.contact_key = events.contact_key
),

hours as (
    select audiences.audience_id, cast(hour_of_day as integer) as hour_of_day
    from (select distinct audience_id from audience_events) as audiences
    cross join (
        select generated_number - 1 as hour_of_day from ({{ dbt.generate_series(24) }}) as series
    ) as hours
)

select
    hours.audience_id,
    hours.hour_of_day,
    count(audience_events.event_type) filter (where audience_events.event_type = 'open') as opens,
    count(audience_events.event_type) filter (where audience_events.event_type = 'click') as clicks
from hours
left join audience_events
    on audience_events.audience_id = hours.audience_id
   and audience_events.hour_of_day = hours.hour_of_day
group by hours.audience_id, hours.hour_of_day
