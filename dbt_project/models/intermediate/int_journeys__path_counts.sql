-- How many journeys took each path on each day, and how many of them converted: what the
-- data-driven attribution models (marketing_ops.measurement.attribution) learn from. A view:
-- Python reads a training window of it, and DuckDB aggregates only those days.
select
    date_day,
    path,
    channel_set,
    cast(count(*) as bigint) as journeys,
    cast(count(*) filter (where is_converted) as bigint) as conversions
from {{ ref('int_journeys__paths') }}
group by date_day, path, channel_set
