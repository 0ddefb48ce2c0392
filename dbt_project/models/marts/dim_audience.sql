-- Audience sizes and how many of each audience may be reached (consent) as of now.
select
    audience_id,
    count(*) as contacts,
    count(*) filter (where is_email_consented) as email_consented,
    count(*) filter (where is_ads_consented) as ads_consented,
    count(*) filter (where is_unsubscribed) as unsubscribed
from {{ ref('int_contacts__latest') }}
where audience_id is not null
group by audience_id
