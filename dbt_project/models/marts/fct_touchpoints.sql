{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['journey_id', 'touch_position'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- Every touch on a journey, with the credit each rule-based attribution method gives it for
-- the journey's conversion. Grain: journey x touch position; `date_day` is the day the
-- journey ended (the conversion day for converting journeys). Incremental per day.
select * from {{ ref('int_journeys__touchpoints') }}
where {{ in_window('date_day') }}
