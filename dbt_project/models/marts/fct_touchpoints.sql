{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ clear_window('date_day') }}", "{{ clear_restated_journeys() }}"],
        on_schema_change='fail'
    )
}}

-- depends_on: {{ ref('int_conversions__deduplicated') }} (clear_restated_journeys)

-- Every touch on a journey, with the credit each rule-based attribution method gives it for
-- the journey's conversion. Grain: journey x touch position; `date_day` is the day the
-- journey ended (the conversion day for converting journeys). Incremental per day.
select * from {{ ref('int_journeys__touchpoints') }}
where {{ in_window('date_day') }}
