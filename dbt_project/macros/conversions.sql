{#- A GA4 purchase is its transaction id, or its session and time when it has none (never
    null: ingest requires user_pseudo_id and event_ts on every GA4 event). Its conversion is
    'purchase:' || this key (int_conversions__unioned); fct_geo_kpis_daily finds a purchase's
    region by it. -#}
{% macro ga4_purchase_key() -%}
    coalesce(transaction_id, session_key || ':' || cast(event_at as varchar))
{%- endmacro %}
