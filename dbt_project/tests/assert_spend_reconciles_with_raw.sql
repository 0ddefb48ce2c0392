{{ config(meta={'dagster': {'ref': {'name': 'fct_ad_spend_daily'}}}) }}

-- Consistency across layers (fivetran ad_reporting style): per day, the spend in
-- fct_ad_spend_daily equals what raw.google_ads and raw.meta_ads hold in the reporting
-- currency (their `spend_reporting`, see macros/reporting_currency.sql), to the cent.
-- Returns the days that disagree. Surfaces in Dagster as a check on fct_ad_spend_daily (the
-- test reads two relations, so its meta names the one it checks).
with raw_spend as (
    select date_day, sum(spend) as spend
    from (
        select date_day, {{ reporting_amount('spend') }} as spend from {{ source('raw', 'google_ads') }}
        union all
        select date_day, {{ reporting_amount('spend') }} as spend from {{ source('raw', 'meta_ads') }}
    ) as platforms
    group by date_day
),

mart_spend as (
    select date_day, sum(spend) as spend
    from {{ ref('fct_ad_spend_daily') }}
    group by date_day
)

select
    coalesce(raw_spend.date_day, mart_spend.date_day) as date_day,
    raw_spend.spend as raw_spend,
    mart_spend.spend as mart_spend
from raw_spend
full outer join mart_spend on mart_spend.date_day = raw_spend.date_day
where abs(coalesce(raw_spend.spend, 0) - coalesce(mart_spend.spend, 0)) > 0.005
