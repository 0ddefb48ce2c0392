{#- Schemas are exactly `staging`, `intermediate` and `marts` (not `main_staging`): the
    Python side reads `marts.<model>` and Dagster keys assets by schema and model name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
