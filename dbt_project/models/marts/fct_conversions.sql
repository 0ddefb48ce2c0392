{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversion_id',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail',
        tags=['publish']
    )
}}

-- One row per business conversion (docs/contracts.md). Published from
-- int_conversions__deduplicated after the `marts.fct_conversions` suite passed on the run's
-- rows: a blocking gate that fails leaves this table as it was.
select
    conversion_id,
    converted_at,
    date_day,
    conversion_type,
    source_system,
    channel,
    campaign_id,
    decision_id,
    contact_key,
    revenue,
    person_id
from {{ ref('int_conversions__deduplicated') }}
where {{ in_window('date_day') }}
