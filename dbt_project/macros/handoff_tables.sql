{#- Tables that Python fills and dbt reads, created empty at the start of every dbt run so a
    plain `dbt build` (or `dbt docs generate`) never trips over a missing relation:

    - config.channel_grouping_overrides: the `channel_grouping` rules of the data home's
      measurement.yaml, written by marketing_ops (parameterised inserts) before dbt runs;
      tried before the default rules of seeds/channel_grouping.csv.
    - attribution.data_driven_weights: per day and channel set, the share of a conversion
      each channel gets under the Markov removal-effect and Shapley models, written by
      marketing_ops.measurement.attribution between the models and the publish steps.

    Column lists here are the contract; the Python writers insert by name. -#}
{% macro create_handoff_tables() -%}
    create schema if not exists config;
    create table if not exists config.channel_grouping_overrides (
        position integer,
        source_pattern varchar,
        medium_pattern varchar,
        channel varchar,
        description varchar
    );
    create schema if not exists attribution;
    create table if not exists attribution.data_driven_weights (
        date_day date,
        channel_set varchar,
        channel varchar,
        markov double precision,
        shapley double precision,
        training_journeys bigint
    );
{%- endmacro %}
