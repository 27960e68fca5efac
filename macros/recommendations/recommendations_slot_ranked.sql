{#- One slot of the composed list (int_recommendations__composed): the available candidates
    of that slot, ranked per horizon and client by tier (1: ranked by the ranker, 2: the
    source's own order) then ranking score, without the products the
    client's earlier slots already took, so that a product appears once, in its
    highest-priority slot. `earlier_slots`: names of the CTEs holding those slots. -#}
{% macro recommendations_slot_ranked(slot_order, earlier_slots) %}
    select
        available.*,
        row_number() over (
            partition by available.horizon, available.customer_id
            order by available.slot_tier asc, available.ranking_score desc, available.product_id asc
        ) as slot_rank
    from available
    {%- for earlier in earlier_slots %}
    left join {{ earlier }}
        on
            available.horizon = {{ earlier }}.horizon
            and available.customer_id = {{ earlier }}.customer_id
            and available.product_id = {{ earlier }}.product_id
    {%- endfor %}
    where
        available.slot_order = {{ slot_order }}
    {%- for earlier in earlier_slots %}
        and {{ earlier }}.product_id is null
    {%- endfor %}
{% endmacro %}
