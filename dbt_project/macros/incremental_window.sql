{#- The incremental window: inclusive ISO dates, from the dbt vars `start_date` / `end_date`
    or, when a var is not set, the environment variables MARKETING_OPS_WINDOW_START_DATE /
    MARKETING_OPS_WINDOW_END_DATE. Dagster's runs use the environment: vars are part of dbt's
    parse state, so a new window as vars re-parsed the whole project (about 4 s) in every
    daily run; the environment is read at execution only (`execute`), never while parsing, so
    a new window costs no parse. Neither set: the run rebuilds every day. The window is
    checked to be plain dates before it reaches SQL, so nothing else can be injected. -#}

{% macro window_date(name) -%}
    {%- set value = var(name, none) -%}
    {%- if (value is none or value == '') and execute -%}
        {%- set value = env_var('MARKETING_OPS_WINDOW_' ~ (name | upper), '') -%}
    {%- endif -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("dbt window " ~ name ~ " must be an ISO date (YYYY-MM-DD), got " ~ value) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}


{#- The one window predicate: `column` within the window of the `start_date` / `end_date`
    vars, widened by `days_before` / `days_after` days, or none when neither var is set. A
    model's window (in_window) and a test's window (get_where_subquery, macros/test_window.sql)
    are both this predicate, so a test reads exactly the days the run rebuilt. -#}
{% macro window_predicate(column, days_before=0, days_after=0) -%}
    {%- set start_date = window_date('start_date') -%}
    {%- set end_date = window_date('end_date') -%}
    {%- set lower = "cast('" ~ start_date ~ "' as date) - " ~ (days_before | int) -%}
    {%- set upper = "cast('" ~ end_date ~ "' as date) + " ~ (days_after | int) -%}
    {%- if start_date is not none and end_date is not none -%}
        {{ return(column ~ " between " ~ lower ~ " and " ~ upper) }}
    {%- elif start_date is not none -%}
        {{ return(column ~ " >= " ~ lower) }}
    {%- elif end_date is not none -%}
        {{ return(column ~ " <= " ~ upper) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#- A predicate on `column` that keeps the window's days in an incremental run and every day
    otherwise (first build, full refresh, or no vars). `days_before` / `days_after` widen the
    window: a model that needs context around its days (the lookback of a journey, a session
    that crosses midnight) reads that much more, and still writes only the window's days. -#}
{% macro in_window(column, days_before=0, days_after=0) -%}
    {%- set predicate = window_predicate(column, days_before, days_after) if is_incremental() else none -%}
    {{ predicate if predicate is not none else 'true' }}
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


{#- `order by column` in a first build or full refresh, nothing in an incremental run. DuckDB
    skips row groups by their min/max, and a day's run reads its window plus a lookback: a
    table built in one go in no particular order has every day in every row group, so each
    lookback read scanned all history (int_sessions__tagged: 35 M rows at two years, for 62
    days' 3 M). Built in day order, later runs append their days behind it. -#}
{% macro order_full_build_by(column) -%}
    {%- if not is_incremental() %}
order by {{ column }}
    {%- endif -%}
{%- endmacro %}


{#- Second pre-hook of the journey models (append after clear_window): delete the journeys of
    the window's conversions that an earlier run reported on another day
    (int_conversions__deduplicated.restated_from). With clear_window this is everything
    delete+insert's look-up of every journey by key did, without reading all history: on a
    day with nothing restated the sub-query is empty and DuckDB reads no journey. -#}
{% macro clear_restated_journeys(column='journey_id') -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ column }} in (
            select conversion_id from {{ ref('int_conversions__deduplicated') }}
            where {{ in_window('date_day') }} and restated_from is not null
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- A numeric dbt var, checked to be a number within [minimum, maximum] before it reaches SQL
    (the settings in the data home's measurement.yaml arrive as vars). -#}
{% macro number_var(name, minimum, maximum, integer=false) -%}
    {%- set value = var(name) -%}
    {%- set text = value | string -%}
    {%- set pattern = '[0-9]+' if integer else '[0-9]+(\.[0-9]+)?' -%}
    {%- if not modules.re.fullmatch(pattern, text) -%}
        {{ exceptions.raise_compiler_error("dbt var " ~ name ~ " must be " ~ ("a whole number" if integer else "a number") ~ " between " ~ minimum ~ " and " ~ maximum ~ ", got " ~ text) }}
    {%- endif -%}
    {%- set number = (text | int) if integer else (text | float) -%}
    {%- if number < minimum or number > maximum -%}
        {{ exceptions.raise_compiler_error("dbt var " ~ name ~ " must be between " ~ minimum ~ " and " ~ maximum ~ ", got " ~ text) }}
    {%- endif -%}
    {{ return(number) }}
{%- endmacro %}
