{#- Data tests of a windowed run check the window's rows.

    A run with the `start_date` / `end_date` vars (what Dagster passes a daily step) rebuilds
    only the window's days of each incremental model; the days outside it are untouched, and
    delete+insert on the model's unique key keeps a rebuilt row from duplicating one outside.
    Testing the whole relation again on every day cost most of a one-day build (measured: 95
    of 166 s at two years x 100k events a day, benchmarks/bench_dbt.py). So a generic test on
    an incremental model reads only the rows whose `date_day` is in the window; a view between
    daily models (and the staging views of the daily sources) opt in with
    `meta: {test_window_column: <its day column>}`, and a model can
    name another column the same way (or opt out with `test_window_column: none`). A run
    without the vars (a full build, the unpartitioned steps) tests every row, and a test's own
    `where` config still applies. The dates are checked by window_date() before they reach SQL. -#}
{% macro get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set column = test_window_column() -%}
    {%- set predicate = window_predicate(adapter.quote(column)) if column else none -%}
    {%- if predicate is not none -%}
        {#- a row without a day belongs to no window: every windowed run reads it, so that
            `not_null` on the day column itself still fails in a daily run -#}
        {%- do clauses.append('(' ~ predicate ~ ' or ' ~ adapter.quote(column) ~ ' is null)') -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ clauses | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The day column a test of the current test node's model is windowed on, or none. -#}
{% macro test_window_column() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if tested is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set meta = tested['config'].get('meta') or {} -%}
    {%- if 'test_window_column' in meta -%}
        {%- set column = meta['test_window_column'] -%}
        {{ return(none if column in (none, 'none', '') else column) }}
    {%- endif -%}
    {{ return('date_day' if tested['config'].get('materialized') == 'incremental' else none) }}
{%- endmacro %}
