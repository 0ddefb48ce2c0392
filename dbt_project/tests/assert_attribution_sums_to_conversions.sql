-- Every attribution method credits each conversion exactly once: per day, each method's
-- column of fct_attribution_daily sums to the day's conversions (to 1e-6). Returns the days
-- and methods that do not, e.g. data-driven weights missing for a channel set because the
-- attribution step did not run.
{%- set methods = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov', 'shapley'] %}
with attributed as (
    select
        date_day,
        sum(conversions) as conversions
        {%- for method in methods %},
        sum({{ method }}) as {{ method }}
        {%- endfor %}
    from {{ ref('fct_attribution_daily') }}
    group by date_day
),

methods as (
    {%- for method in methods %}
    select date_day, '{{ method }}' as method, conversions, {{ method }} as credited from attributed
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select *
from methods
where abs(credited - conversions) > 1e-6
