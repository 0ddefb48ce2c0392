{#- Attribution settings (dbt vars, set from the data home's measurement.yaml), validated
    before they reach SQL. -#}

{% macro lookback_days() -%}
    {{ return(number_var('attribution_lookback_days', 1, 365, integer=true)) }}
{%- endmacro %}


{#- An interval of `n` days; `n` is a validated number or a column. -#}
{% macro days_interval(n) -%}
    (interval '1 day' * {{ n }})
{%- endmacro %}


{#- Position-based (U-shaped) credit of the touch at `position` of `touches`: the first and
    last touch get their shares, the middle ones split the rest; a two-touch journey splits
    in the ratio of the two shares, a one-touch journey gives its touch everything. -#}
{% macro position_based_credit(position, touches) -%}
    {%- set first_share = number_var('attribution_first_touch_share', 0, 1) -%}
    {%- set last_share = number_var('attribution_last_touch_share', 0, 1) -%}
    {%- if first_share + last_share > 1 -%}
        {{ exceptions.raise_compiler_error("attribution_first_touch_share + attribution_last_touch_share must not exceed 1, got " ~ (first_share + last_share)) }}
    {%- endif -%}
    {%- set ends = first_share + last_share -%}
    case
        when {{ touches }} = 1 then 1.0
        when {{ touches }} = 2 then
            {%- if ends > 0 %}
            case when {{ position }} = 1 then {{ first_share / ends }} else {{ last_share / ends }} end
            {%- else %}
            0.5
            {%- endif %}
        when {{ position }} = 1 then {{ first_share }}
        when {{ position }} = {{ touches }} then {{ last_share }}
        else {{ 1 - ends }} / ({{ touches }} - 2)
    end
{%- endmacro %}
