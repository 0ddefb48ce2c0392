{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversion_id',
        pre_hook="{{ clear_window('date_day') }}",
        on_schema_change='fail'
    )
}}

-- Every business conversion once (docs/contracts.md): GA4 purchases deduplicated by
-- transaction id, closed-won CRM deals by deal id, and offline conversions only when no
-- closed-won deal carries their GCLID (otherwise they are that deal, already counted).
-- Incremental per day: a run writes the conversions of its days and reads, besides the
-- window, only the state those need: the purchases already counted (this table: a purchase
-- counts on its first hit, and a window hit of a purchase counted on an earlier day adds
-- nothing), every closed-won deal's GCLID, every offline conversion (a few per deal) and
-- the first session of the window's GCLIDs. Building day by day equals one full build (a
-- full build ranks every hit of a purchase); a hit that arrives after its day was built
-- counts on the first day built with it, until that earlier day is built again.
-- delete+insert on conversion_id moves a conversion reported on another day before (a
-- deal closed again later, an earlier hit built late) to its day now.
{%- set purchase_key = ga4_purchase_key() %}
{%- set window_start = window_date('start_date') if is_incremental() else none %}
with purchases as (
    -- Each purchase's hits in the window (every hit ever in a full build), ranked: its first
    -- one counts, unless an earlier day already counted the purchase.
    select
        *,
        row_number() over (
            partition by purchase_key
            order by event_at, _loaded_at
        ) as occurrence
    from (
        select *, {{ purchase_key }} as purchase_key
        from {{ ref('stg_ga4__events') }}
        where event_name = 'purchase'
          and {{ in_window('date_day') }}
    ) as hits
    {%- if window_start %}
    where 'purchase:' || purchase_key not in (
        -- clear_window ran first: what is left lies outside the window
        select conversion_id from {{ this }}
        where conversion_type = 'online_purchase'
          and date_day < cast('{{ window_start }}' as date)
    )
    {%- endif %}
),

contacts as (
    select * from {{ ref('int_contacts__latest') }}
),

deals as (
    select * from {{ ref('int_deals__latest') }}
),

offline as (
    select *
    from (
        select
            *,
            -- Google's offline import treats the same click, name and time as one conversion.
            row_number() over (
                partition by gclid, conversion_name, converted_at
                order by _loaded_at desc
            ) as occurrence
        from {{ ref('stg_offline__conversions') }}
    ) as ranked
    where occurrence = 1
      and {{ in_window('date_day') }}
),

online_purchases as (
    select
        'purchase:' || purchases.purchase_key as conversion_id,
        purchases.event_at as converted_at,
        purchases.date_day,
        'online_purchase' as conversion_type,
        'ga4' as source_system,
        coalesce(sessions.traffic_source, purchases.traffic_source) as traffic_source,
        coalesce(sessions.traffic_medium, purchases.traffic_medium) as traffic_medium,
        coalesce(purchases.campaign_id, sessions.campaign_id) as campaign_id,
        contacts.contact_key,
        coalesce(purchases.revenue, 0) as revenue,
        purchases.session_key,
        purchases.user_pseudo_id,
        coalesce(purchases.gclid, sessions.gclid) as gclid,
        purchases.event_at as originated_at
    from purchases
    -- int_sessions__tagged is read in two places rather than through one CTE: DuckDB would
    -- materialise a CTE read twice, every session ever (measured 4.9 s at 2 years).
    left join {{ ref('int_sessions__tagged') }} as sessions on sessions.session_key = purchases.session_key
    -- GA4 user_id is the CRM contact id when the visitor is logged in.
    left join contacts on contacts.contact_id = purchases.user_id
    where purchases.occurrence = 1
      and {{ in_window('purchases.date_day') }}
),

won_deals as (
    select
        'deal:' || deal_id as conversion_id,
        closed_at as converted_at,
        closed_on as date_day,
        'deal_won' as conversion_type,
        'crm' as source_system,
        traffic_source,
        traffic_medium,
        campaign_id,
        contact_key,
        coalesce(amount, 0) as revenue,
        utm_content,
        cast(null as varchar) as session_key,
        cast(null as varchar) as user_pseudo_id,
        gclid,
        -- The deal came from its UTM-tagged visit when it was created.
        coalesce(created_at, closed_at) as originated_at
    from deals
    where is_won
      and {{ in_window('closed_on') }}
),

won_gclids as (
    select distinct gclid from deals where is_won and gclid is not null
),

offline_only as (
    select
        'offline:' || offline.gclid || ':' || cast(offline.converted_at as varchar) as conversion_id,
        offline.converted_at,
        offline.date_day,
        'deal_won' as conversion_type,
        'offline_conversions' as source_system,
        -- A GCLID is a Google Ads click: paid search, tagged like a GA4 cpc session.
        'google' as traffic_source,
        'cpc' as traffic_medium,
        gclid_sessions.campaign_id,
        cast(null as varchar) as contact_key,
        coalesce(offline.conversion_value, 0) as revenue,
        cast(null as varchar) as session_key,
        cast(null as varchar) as user_pseudo_id,
        offline.gclid,
        offline.converted_at as originated_at
    from offline
    left join (
        select gclid, {{ first_in_order('campaign_id', 'session_started_at') }} as campaign_id
        from {{ ref('int_sessions__tagged') }}
        where gclid in (select gclid from offline)
        group by gclid
    ) as gclid_sessions on gclid_sessions.gclid = offline.gclid
    where offline.gclid not in (select gclid from won_gclids)
),

unioned as (
    select conversion_id, converted_at, date_day, conversion_type, source_system,
           traffic_source, traffic_medium, campaign_id,
           case when campaign_id like 'D-%' then campaign_id end as decision_id,
           contact_key, revenue, session_key, user_pseudo_id, gclid, originated_at
    from online_purchases
    union all
    select conversion_id, converted_at, date_day, conversion_type, source_system,
           traffic_source, traffic_medium, campaign_id,
           case when utm_content like 'D-%' then utm_content end as decision_id,
           contact_key, revenue, session_key, user_pseudo_id, gclid, originated_at
    from won_deals
    union all
    select conversion_id, converted_at, date_day, conversion_type, source_system,
           traffic_source, traffic_medium, campaign_id,
           case when campaign_id like 'D-%' then campaign_id end as decision_id,
           contact_key, revenue, session_key, user_pseudo_id, gclid, originated_at
    from offline_only
)

select * from unioned
