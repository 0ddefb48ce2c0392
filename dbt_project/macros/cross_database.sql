{#- SQL that differs between warehouses, behind adapter.dispatch: the models call these (or
    dbt's own cross-database macros: dbt.datediff, dbt.date_part, dbt.generate_series,
    dbt.type_*) and run unchanged on DuckDB (target `duckdb`, the default) and PostgreSQL
    (target `postgres`). The DuckDB SQL is what the models wrote before, so DuckDB builds the
    same tables. Another warehouse adds `<adapter>__<macro>` here; until it does, the default
    stops the build naming the macro (docs/decisions.md 2026-12-04). -#}

{% macro unsupported_on_adapter(name) -%}
    {{ exceptions.raise_compiler_error("marketing_ops macro " ~ name ~ " has no implementation for the " ~ target.type ~ " adapter: add " ~ target.type ~ "__" ~ name ~ " to dbt_project/macros/cross_database.sql") }}
{%- endmacro %}


{#- A double-precision float type (dbt.type_float() is a 4-byte FLOAT on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'marketing_ops')()) }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro default__type_double() -%}
    {{ dbt.type_float() }}
{%- endmacro %}


{#- Aggregate: `value` of the row with the lowest (arg_min) or highest (arg_max) `order_by`
    among the rows where both are not null (and `where` holds, when given). Ties pick any
    one of them. DuckDB's min_by/max_by; elsewhere the first element of an ordered array. -#}
{% macro arg_min(value, order_by, where=none) -%}
    {{ return(adapter.dispatch('arg_min', 'marketing_ops')(value, order_by, where)) }}
{%- endmacro %}

{% macro arg_max(value, order_by, where=none) -%}
    {{ return(adapter.dispatch('arg_max', 'marketing_ops')(value, order_by, where)) }}
{%- endmacro %}

{% macro duckdb__arg_min(value, order_by, where) -%}
    min_by({{ value }}, {{ order_by }}){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{% macro duckdb__arg_max(value, order_by, where) -%}
    max_by({{ value }}, {{ order_by }}){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{% macro postgres__arg_min(value, order_by, where) -%}
    {{ ordered_array_head(value, order_by, 'asc', where) }}
{%- endmacro %}

{% macro postgres__arg_max(value, order_by, where) -%}
    {{ ordered_array_head(value, order_by, 'desc', where) }}
{%- endmacro %}

{% macro default__arg_min(value, order_by, where) -%}
    {{ unsupported_on_adapter('arg_min') }}
{%- endmacro %}

{% macro default__arg_max(value, order_by, where) -%}
    {{ unsupported_on_adapter('arg_max') }}
{%- endmacro %}

{#- PostgreSQL: the first of the non-null values ordered by a non-null key. -#}
{% macro ordered_array_head(value, order_by, direction, where) -%}
    (array_agg({{ value }} order by {{ order_by }} {{ direction }}) filter (
        where {{ value }} is not null and {{ order_by }} is not null{% if where %} and ({{ where }}){% endif %}
    ))[1]
{%- endmacro %}


{#- Aggregate: the first `value` in the order of `order_by` (a comma-separated list), nulls
    included. DuckDB's ordered first(); elsewhere the first element of an ordered array. -#}
{% macro first_in_order(value, order_by) -%}
    {{ return(adapter.dispatch('first_in_order', 'marketing_ops')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__first_in_order(value, order_by) -%}
    first({{ value }} order by {{ order_by }})
{%- endmacro %}

{% macro postgres__first_in_order(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}

{% macro default__first_in_order(value, order_by) -%}
    {{ unsupported_on_adapter('first_in_order') }}
{%- endmacro %}


{#- True when `value` fully matches the regular expression `pattern`. -#}
{% macro full_match(value, pattern) -%}
    {{ return(adapter.dispatch('full_match', 'marketing_ops')(value, pattern)) }}
{%- endmacro %}

{% macro duckdb__full_match(value, pattern) -%}
    regexp_full_match({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__full_match(value, pattern) -%}
    ({{ value }} ~ ('^(?:' || {{ pattern }} || ')$'))
{%- endmacro %}

{% macro default__full_match(value, pattern) -%}
    {{ unsupported_on_adapter('full_match') }}
{%- endmacro %}


{#- One row per day (`date_day`) between the `start_day` and `end_day` columns of the one-row
    relation `bounds`, inclusive. -#}
{% macro day_spine(bounds) -%}
    {{ return(adapter.dispatch('day_spine', 'marketing_ops')(bounds)) }}
{%- endmacro %}

{% macro duckdb__day_spine(bounds) -%}
    select cast(unnest(generate_series(cast(start_day as timestamp), cast(end_day as timestamp), interval 1 day)) as date) as date_day
    from {{ bounds }}
    where start_day is not null and end_day is not null
{%- endmacro %}

{% macro postgres__day_spine(bounds) -%}
    select cast(days.day as date) as date_day
    from {{ bounds }}
    cross join lateral generate_series(cast(start_day as timestamp), cast(end_day as timestamp), interval '1 day') as days(day)
    where start_day is not null and end_day is not null
{%- endmacro %}

{% macro default__day_spine(bounds) -%}
    {{ unsupported_on_adapter('day_spine') }}
{%- endmacro %}


{#- Seconds between two timestamps, as a double (for time-decay weights and lookbacks). -#}
{% macro seconds_between(earlier, later) -%}
    {{ return(adapter.dispatch('seconds_between', 'marketing_ops')(earlier, later)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(earlier, later) -%}
    (epoch({{ later }}) - epoch({{ earlier }}))
{%- endmacro %}

{% macro postgres__seconds_between(earlier, later) -%}
    cast(extract(epoch from {{ later }}) - extract(epoch from {{ earlier }}) as double precision)
{%- endmacro %}

{% macro default__seconds_between(earlier, later) -%}
    {{ unsupported_on_adapter('seconds_between') }}
{%- endmacro %}


{#- Aggregate: the distinct non-null values of `value`, sorted, joined by `separator` (null
    when there are none). On DuckDB a sorted list, not an ordered `string_agg(distinct ...)`:
    beside another ordered aggregate in the same GROUP BY (int_journeys__paths' `path`),
    DuckDB sorted every group for both, 8.4 s against 0.6 s over 2.8 M journeys
    (docs/decisions.md 2026-12-06). -#}
{% macro distinct_sorted_join(value, separator) -%}
    {{ return(adapter.dispatch('distinct_sorted_join', 'marketing_ops')(value, separator)) }}
{%- endmacro %}

{% macro duckdb__distinct_sorted_join(value, separator) -%}
    nullif(array_to_string(list_sort(list_distinct(list({{ value }}))), {{ separator }}), '')
{%- endmacro %}

{% macro default__distinct_sorted_join(value, separator) -%}
    string_agg(distinct {{ value }}, {{ separator }} order by {{ value }})
{%- endmacro %}


{#- Aggregate: how many distinct non-null values `value` takes. On DuckDB the length of a
    distinct list, not count(distinct ...), which is a second distinct aggregate in
    int_journeys__paths' GROUP BY (15 % of the model at 120 days, docs/decisions.md
    2026-12-06). -#}
{% macro count_distinct(value) -%}
    {{ return(adapter.dispatch('count_distinct', 'marketing_ops')(value)) }}
{%- endmacro %}

{% macro duckdb__count_distinct(value) -%}
    len(list_distinct(list({{ value }})))
{%- endmacro %}

{% macro default__count_distinct(value) -%}
    count(distinct {{ value }})
{%- endmacro %}
