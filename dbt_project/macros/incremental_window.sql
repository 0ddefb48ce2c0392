{#- The incremental window: dbt vars `start_date` / `end_date`, inclusive ISO dates.

    Dagster passes a partition window; a run without vars rebuilds every day. The vars are
    checked to be plain dates before they reach SQL, so nothing else can be injected. -#}

{% macro window_date(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("dbt var " ~ name ~ " must be an ISO date (YYYY-MM-DD), got " ~ value) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}


{#- A predicate on `column` that keeps the window's days in an incremental run and every day
    otherwise (first build, full refresh, or no vars). -#}
{% macro in_window(column) -%}
    {%- set start_date = window_date('start_date') -%}
    {%- set end_date = window_date('end_date') -%}
    {%- if is_incremental() and start_date is not none and end_date is not none -%}
        {{ column }} between cast('{{ start_date }}' as date) and cast('{{ end_date }}' as date)
    {%- elif is_incremental() and start_date is not none -%}
        {{ column }} >= cast('{{ start_date }}' as date)
    {%- elif is_incremental() and end_date is not none -%}
        {{ column }} <= cast('{{ end_date }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of the daily facts: empty the window's days before delete+insert adds them back.
    delete+insert alone only replaces keys that are still produced, so a row that vanished
    from the source (a re-delivered file, an offline conversion now matched to a deal) would
    survive; clearing the window makes a re-run of a day equal to a full refresh of it. -#}
{% macro clear_window(column='date_day') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_window(column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- One row per day (`date_day`) between the `start_day` and `end_day` columns of the one-row
    relation `bounds`, inclusive. -#}
{% macro day_spine(bounds) -%}
    select cast(unnest(generate_series(cast(start_day as timestamp), cast(end_day as timestamp), interval 1 day)) as date) as date_day
    from {{ bounds }}
    where start_day is not null and end_day is not null
{%- endmacro %}


{#- True when `value` fully matches the regular expression `pattern`. -#}
{% macro full_match(value, pattern) -%}
    regexp_full_match({{ value }}, {{ pattern }})
{%- endmacro %}
