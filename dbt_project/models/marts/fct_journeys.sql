{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='journey_id',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- One row per journey: converting journeys on their conversion day, journeys that led
-- nowhere on the day their lookback ran out. Incremental per day.
select * from {{ ref('int_journeys__paths') }}
where {{ in_window('date_day') }}
