{#- Per horizon and client, the composed list filled from int_recommendations__candidates,
    slot by slot: recommendations_n_similar products of the first slot (similar, or
    win-back for an inactive client), recommendations_n_bought_together bought together,
    recommendations_n_novel novel; a prospect's list is its popular_in_market products
    alone. Within a slot the best ranking_score first; a product appears once, in its
    highest-priority slot. Both horizons are built so that the backtest evaluates this
    exact logic (the backtest for the clients it evaluates only). -#}
{%- set n_similar = var('recommendations_n_similar') -%}
{%- set n_together = var('recommendations_n_bought_together') -%}
{%- set n_novel = var('recommendations_n_novel') -%}
with

available as (

    select * from {{ ref('int_recommendations__candidates') }}

),

first_slot_ranked as (

    {{ recommendations_slot_ranked(1, []) }}

),

first_slot as (

    select *
    from first_slot_ranked
    where
        slot_rank <= case
            when recommendation_source = 'popular_in_market' then {{ n_similar + n_together + n_novel }}
            else {{ n_similar }}
        end

),

second_slot_ranked as (

    {{ recommendations_slot_ranked(2, ['first_slot']) }}

),

second_slot as (

    select *
    from second_slot_ranked
    where slot_rank <= {{ n_together }}

),

third_slot_ranked as (

    {{ recommendations_slot_ranked(3, ['first_slot', 'second_slot']) }}

),

third_slot as (

    select *
    from third_slot_ranked
    where slot_rank <= {{ n_novel }}

),

selected as (

    select * from first_slot
    union all
    select * from second_slot
    union all
    select * from third_slot

),

composed as (

    select
        horizon,
        customer_id,
        client_segment,
        row_number() over (
            partition by horizon, customer_id
            order by slot_order, slot_rank
        ) as recommendation_rank,
        product_id,
        product_name,
        category,
        recommendation_source,
        reason,
        source_score,
        ranking_score,
        margin_rate,
        stock_status
    from selected

)

select * from composed
