{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversion_id',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- One row per business conversion, with the channel its source/medium maps to and the
-- agent decision that caused it, when one did.
with conversions as (
    select * from {{ ref('int_conversions__unioned') }}
    where {{ in_window('date_day') }}
)

select
    conversion_id,
    converted_at,
    date_day,
    conversion_type,
    source_system,
    {{ channel_for('traffic_source', 'traffic_medium') }} as channel,
    campaign_id,
    decision_id,
    contact_key,
    revenue
from conversions
