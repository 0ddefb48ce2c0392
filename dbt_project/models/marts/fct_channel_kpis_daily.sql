{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['date_day', 'channel'],
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail',
        tags=['publish']
    )
}}

-- Every channel on every day: what forecasts, decisions and measurement read. Published from
-- int_channel_kpis__daily after the `marts.fct_channel_kpis_daily` suite passed on the run's
-- rows: a blocking gate that fails leaves this table as it was.
select * from {{ ref('int_channel_kpis__daily') }}
where {{ in_window('date_day') }}
