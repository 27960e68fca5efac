{#- What advisors and campaigns read: per client, the composed list as of today, each
    product with its recommendation_source (similar, win_back, bought_together, novel,
    popular_in_market) and the reason in words. -#}
with

composed as (

    select * from {{ ref('int_recommendations__composed') }}

),

current_lists as (

    select
        customer_id,
        cast(recommendation_rank as integer) as recommendation_rank,
        product_id,
        category,
        recommendation_source,
        reason,
        client_segment,
        cast(source_score as double) as source_score,
        cast(ranking_score as double) as ranking_score,
        cast(margin_rate as double) as margin_rate,
        stock_status,
        {{ as_of_date() }} as as_of_date
    from composed
    where horizon = 'current'

)

select * from current_lists
