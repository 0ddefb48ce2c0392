{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ clear_window('date_day') }}", "{{ clear_restated_journeys() }}"],
        on_schema_change='fail'
    )
}}

{%- set lookback = lookback_days() -%}
{%- set half_life = number_var('attribution_half_life_days', 0.01, 365) -%}
{%- set end_date = window_date('end_date') if is_incremental() else none -%}

-- Journeys, one row per touch on them, on the day the journey ended.
--
-- Converting journeys: a touch belongs to the first conversion of its person at most
-- `attribution_lookback_days` after it (the person as of the conversion day, so a login on
-- the day of a purchase pulls in that browser's earlier visits). A conversion whose own visit
-- is not among its touches (a deal created from a tagged visit web analytics never saw, a
-- click known only to the offline import) gets that origin as a touch, so every conversion
-- has at least one touch and every attribution method can credit it in full.
--
-- Journeys without a conversion: they end when the person (as of the touch day) has no
-- further touch for `attribution_lookback_days`; they hold the unclaimed touches of the
-- lookback before that last touch, and are reported on the day the lookback ran out. The
-- data-driven attribution models learn from both kinds.
--
-- A day's rows depend only on data up to that day, so building day by day equals one full
-- build. An incremental run reads twice the lookback (plus a day) before its window.
with conversions as (
    select
        conversion_id,
        converted_at,
        date_day,
        person_id,
        channel,
        campaign_id,
        own_session_key,
        coalesce(least(originated_at, converted_at), converted_at) as originated_at
    from {{ ref('int_conversions__deduplicated') }}
    where {{ in_window('date_day', days_before=2 * lookback + 2) }}
),

touches as (
    select * from {{ ref('int_touchpoints__stitched') }}
    where {{ in_window('touched_on', days_before=2 * lookback + 2) }}
),

candidates as (
    -- A browser linked to the converting person by the conversion day.
    select touches.touch_id, conversions.conversion_id, conversions.converted_at
    from touches
    inner join conversions
        on conversions.person_id = touches.linked_person_id
       and touches.linked_on <= conversions.date_day
    where touches.touched_at <= conversions.converted_at
      and touches.touched_at >= conversions.converted_at - {{ days_interval(lookback) }}
    union all
    -- A browser not (yet) linked to anyone: the person is the browser.
    select touches.touch_id, conversions.conversion_id, conversions.converted_at
    from touches
    inner join conversions
        on conversions.person_id = 'anon:' || touches.user_pseudo_id
    where (touches.linked_on is null or touches.linked_on > conversions.date_day)
      and touches.touched_at <= conversions.converted_at
      and touches.touched_at >= conversions.converted_at - {{ days_interval(lookback) }}
),

claimed as (
    select touch_id, conversion_id
    from (
        select
            touch_id,
            conversion_id,
            row_number() over (
                partition by touch_id order by converted_at, conversion_id
            ) as claim_rank
        from candidates
    ) as ranked
    where claim_rank = 1
),

converting_touches as (
    select
        claimed.conversion_id as journey_id,
        touches.touch_id,
        touches.touch_type,
        touches.touched_at,
        touches.channel,
        touches.campaign_id
    from claimed
    inner join touches on touches.touch_id = claimed.touch_id
),

origin_touches as (
    select
        conversions.conversion_id as journey_id,
        'origin:' || conversions.conversion_id as touch_id,
        'conversion_origin' as touch_type,
        conversions.originated_at as touched_at,
        conversions.channel,
        conversions.campaign_id
    from conversions
    where not exists (
        select 1
        from converting_touches
        where converting_touches.journey_id = conversions.conversion_id
          and converting_touches.touch_id = conversions.own_session_key
    )
),

converting as (
    select
        conversions.date_day,
        journey.journey_id,
        true as is_converted,
        conversions.conversion_id,
        conversions.person_id,
        conversions.converted_at as ended_at,
        journey.touch_id,
        journey.touch_type,
        journey.touched_at,
        journey.channel,
        journey.campaign_id
    from (
        select * from converting_touches
        union all
        select * from origin_touches
    ) as journey
    inner join conversions on conversions.conversion_id = journey.journey_id
    where {{ in_window('conversions.date_day') }}
),

lapsing_people as (
    -- The people with a touch whose lookback runs out in the window: the only ones a journey
    -- without conversion can end for. Ranking only their touches, not everyone's of the
    -- read's 2 x lookback days, is most of this model's time saved at scale.
    select distinct person_id
    from touches
    where {{ in_window('cast(touched_at + ' ~ days_interval(lookback) ~ ' as date)') }}
),

person_touches as (
    select
        touches.*,
        claimed.conversion_id is not null as is_claimed,
        lead(touches.touched_at) over (
            partition by touches.person_id order by touches.touched_at, touches.touch_id
        ) as next_touched_at
    from touches
    left join claimed on claimed.touch_id = touches.touch_id
    {%- if is_incremental() %}
    -- (a full build's window holds everyone: the filter would only cost a semi-join)
    where touches.person_id in (select person_id from lapsing_people)
    {%- endif %}
),

journey_ends as (
    select
        person_id,
        touch_id as last_touch_id,
        touched_at as last_touched_at,
        touched_at + {{ days_interval(lookback) }} as ended_at
    from person_touches
    where not is_claimed
      and (next_touched_at is null or next_touched_at > touched_at + {{ days_interval(lookback) }})
),

lapsed as (
    select
        cast(journey_ends.ended_at as date) as date_day,
        'lapsed:' || journey_ends.last_touch_id as journey_id,
        false as is_converted,
        cast(null as varchar) as conversion_id,
        journey_ends.person_id,
        journey_ends.ended_at,
        person_touches.touch_id,
        person_touches.touch_type,
        person_touches.touched_at,
        person_touches.channel,
        person_touches.campaign_id
    from journey_ends
    inner join person_touches
        on person_touches.person_id = journey_ends.person_id
       and not person_touches.is_claimed
       and person_touches.touched_at >= journey_ends.last_touched_at - {{ days_interval(lookback) }}
       and person_touches.touched_at <= journey_ends.last_touched_at
    where {{ in_window('cast(journey_ends.ended_at as date)') }}
      -- A journey is reported once its lookback ran out within the data seen so far.
      and cast(journey_ends.ended_at as date) <= {% if end_date %}cast('{{ end_date }}' as date){% else %}(select max(touched_on) from touches){% endif %}
),

journey_touches as (
    select * from converting
    union all
    select * from lapsed
),

positioned as (
    select
        *,
        cast(row_number() over (
            partition by journey_id order by touched_at, touch_id
        ) as integer) as touch_position,
        cast(count(*) over (partition by journey_id) as integer) as journey_touches,
        greatest({{ seconds_between('touched_at', 'ended_at') }}, 0) / 86400.0 as days_before_end
    from journey_touches
),

decayed as (
    -- Weights relative to the journey's latest touch (which weighs 1), so a long lookback
    -- with a short half-life never underflows to a journey of zero weights.
    select
        *,
        power(
            0.5,
            (days_before_end - min(days_before_end) over (partition by journey_id)) / {{ half_life }}
        ) as decay_weight
    from positioned
)

select
    date_day,
    journey_id,
    is_converted,
    conversion_id,
    person_id,
    ended_at,
    touch_position,
    journey_touches,
    touch_id,
    touch_type,
    touched_at,
    cast(touched_at as date) as touched_on,
    channel,
    campaign_id,
    days_before_end,
    -- Rule-based credit of this touch for its journey's conversion (0 without conversion);
    -- each sums to 1 over a converting journey.
    case when is_converted and touch_position = 1 then 1.0 else 0.0 end as first_touch_credit,
    case when is_converted and touch_position = journey_touches then 1.0 else 0.0 end as last_touch_credit,
    case when is_converted then 1.0 / journey_touches else 0.0 end as linear_credit,
    case when is_converted
        then decay_weight / sum(decay_weight) over (partition by journey_id)
        else 0.0 end as time_decay_credit,
    case when is_converted
        then {{ position_based_credit('touch_position', 'journey_touches') }}
        else 0.0 end as position_based_credit
from decayed
