{#- The reporting currency: the dbt var `reporting_currency`, which the warehouse assets take
    from the data home's reference/reporting.yaml (default EUR). Checked to be a three-letter
    ISO 4217 code before it reaches SQL. -#}
{% macro reporting_currency() -%}
    {%- set value = var('reporting_currency') | string -%}
    {%- if not modules.re.fullmatch('[A-Z]{3}', value) -%}
        {{ exceptions.raise_compiler_error("dbt var reporting_currency must be a three-letter ISO 4217 code (e.g. EUR), got " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- A money column of a raw table in the reporting currency: the `<amount>_reporting` column
    ingest computed (marketing_ops.signals, at the rates of reference/fx_rates.csv). A row
    loaded before ingest computed it is taken as it is only when it is already in the
    reporting currency (or has none: the account's own); in any other currency it stays null,
    so the not_null tests stop the build instead of adding up unconverted amounts (re-running
    the day's ingest fills it). -#}
{% macro reporting_amount(amount, currency='currency') -%}
    coalesce(
        {{ amount }}_reporting,
        case when {{ currency }} is null or {{ currency }} = '{{ reporting_currency() }}' then {{ amount }} end
    )
{%- endmacro %}
