{#- 95 % confidence intervals written once (the Python twin is clientele/intervals.py).
    `bound` is 'lower' or 'upper'; z = 1.96 by default. The z-derived constants are
    rendered as short literals (z^2 = 3.8416, not 3.8415999999999997) so that a figure
    does not move with the float formatting of Jinja. -#}

{% macro _interval_sign(bound) -%}
    {%- if bound == 'lower' -%} - {%- elif bound == 'upper' -%} + {%- else -%}
        {{ exceptions.raise_compiler_error("interval bound must be 'lower' or 'upper', not " ~ bound) }}
    {%- endif -%}
{%- endmacro %}

{% macro _interval_literal(value) -%}
    {{ '%.10g' | format(value) }}
{%- endmacro %}

{#- Wilson score interval of a proportion `rate` observed on `n` trials (null when n = 0):
    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n). -#}
{% macro wilson_interval(rate, n, bound, z=1.96) -%}
    case when {{ n }} > 0 then (
            {{ rate }} + {{ _interval_literal(z * z / 2) }} / {{ n }}
            {{ _interval_sign(bound) }} {{ z }} * sqrt(
                {{ rate }} * (1 - {{ rate }}) / {{ n }}
                + {{ _interval_literal(z * z / 4) }} / ({{ n }} * {{ n }})
            )
        )
        / (1 + {{ _interval_literal(z * z) }} / {{ n }})
    end
{%- endmacro %}

{#- Normal (Wald) interval of the difference of two proportions p1 - p2 observed on n1
    and n2 trials: p1 - p2 -+ z sqrt(p1(1-p1)/n1 + p2(1-p2)/n2); null when a group is empty. -#}
{% macro difference_interval(rate_1, n_1, rate_2, n_2, bound, z=1.96) -%}
    {{ rate_1 }} - {{ rate_2 }}
    {{ _interval_sign(bound) }} {{ z }} * sqrt(
        {{ rate_1 }} * (1 - {{ rate_1 }}) / nullif({{ n_1 }}, 0)
        + {{ rate_2 }} * (1 - {{ rate_2 }}) / nullif({{ n_2 }}, 0)
    )
{%- endmacro %}
