{#- Sums and means that do not depend on the order rows are added in. A sum of doubles
    computed in parallel adds them in whatever order the threads finish, and two builds
    of the same data then differ in the last bits (1e-15), enough to flip a near-tie in
    a rank downstream. Each term is fixed to 6 decimals and the sum is exact (decimal,
    integer arithmetic), so the result is the same on every run. Terms must stay below
    1e12 in absolute value (staging bounds prices and quantities far below). `over`: a
    window clause, for window sums. -#}
{% macro exact_sum(expression, over=none) -%}
    cast(sum(cast({{ expression }} as decimal(18, 6))){% if over is not none %} over ({{ over }}){% endif %} as double)
{%- endmacro %}

{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(18, 6))) as double)
{%- endmacro %}
