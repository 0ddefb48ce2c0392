-- The marketing channels (seed `channels`): every KPI row and every spend row names one.
select
    channel,
    channel_type,
    is_paid
from {{ ref('channels') }}
