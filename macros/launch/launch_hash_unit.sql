{#- A deterministic number in [0, 1) from a text expression (first 32 bits of
    its md5): the same client and campaign always land on the same side of
    the control split, on any run. Dispatched so another adapter can supply
    its own hex-to-integer conversion. -#}
{% macro launch_hash_unit(expression) -%}
    {{ return(adapter.dispatch('launch_hash_unit', 'clientele')(expression)) }}
{%- endmacro %}

{% macro default__launch_hash_unit(expression) -%}
    (cast(('0x' || substr(md5({{ expression }}), 1, 8)) as bigint) / 4294967296.0)
{%- endmacro %}
