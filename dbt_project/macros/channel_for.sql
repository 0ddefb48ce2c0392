{#- The channel of a source/medium pair: the lowest-priority rule whose patterns fully match
    both (GA4's default channel grouping works the same way: ordered rules, first match wins).
    `rules` defaults to stg_config__channel_grouping: the data home's overrides first, then the
    `channel_grouping` seed, whose last rule matches everything, so every pair gets a channel.
    Inputs are expected lower-cased (staging does that). -#}
{% macro channel_for(source_column, medium_column, rules=none) -%}
    {%- set rules = rules if rules is not none else ref('stg_config__channel_grouping') -%}
    (
        select {{ arg_min('grouping_rule.channel', 'grouping_rule.priority') }}
        from {{ rules }} as grouping_rule
        where {{ full_match(source_column, 'grouping_rule.source_pattern') }}
          and {{ full_match(medium_column, 'grouping_rule.medium_pattern') }}
    )
{%- endmacro %}


{#- The channel of an ad platform row: Meta is paid social; Google Ads campaigns say theirs in
    the name prefix (`SEARCH | brand`, `DISPLAY | prospecting`), and an unprefixed Google
    campaign is counted as search, Google Ads' default campaign type. -#}
{% macro ad_channel(platform_column, campaign_name_column) -%}
    case
        when {{ platform_column }} = 'meta_ads' then 'paid_social'
        when upper(trim({{ campaign_name_column }})) like 'DISPLAY |%' then 'display'
        when upper(trim({{ campaign_name_column }})) like 'SEARCH |%' then 'paid_search'
        else 'paid_search'
    end
{%- endmacro %}
