-- The shipped channel_grouping seed (without the data home's overrides) maps the source/medium pairs of docs/contracts.md to the
-- contract's channels. Returns the pairs that map elsewhere (edit the seed, then this list,
-- when the contract changes).
with contract_examples as (
    select * from (values
        ('google', 'cpc', 'paid_search'),
        ('google', 'display', 'display'),
        ('facebook', 'paid_social', 'paid_social'),
        ('instagram', 'paid_social', 'paid_social'),
        ('newsletter', 'email', 'email'),
        ('google', 'organic', 'organic_search'),
        ('(direct)', '(none)', 'direct'),
        ('blog.example.com', 'referral', 'referral')
    ) as examples(traffic_source, traffic_medium, expected_channel)
),

grouped as (
    select
        *,
        {{ channel_for('traffic_source', 'traffic_medium', rules=ref('channel_grouping')) }} as channel
    from contract_examples
)

select *
from grouped
where channel is distinct from expected_channel
