{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ clear_window('date_day') }}", "{{ clear_restated_journeys() }}"],
        on_schema_change='fail'
    )
}}

-- depends_on: {{ ref('int_conversions__deduplicated') }} (clear_restated_journeys)

-- One row per journey: converting journeys on their conversion day, journeys that led
-- nowhere on the day their lookback ran out. Incremental per day.
select * from {{ ref('int_journeys__paths') }}
where {{ in_window('date_day') }}
