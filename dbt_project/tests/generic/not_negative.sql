{#- Money and counts are never below zero (nulls pass: "no value" is not negative). -#}
{% test not_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
