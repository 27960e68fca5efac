{#- What advisors and campaigns read: per client, the composed list as of today, each
    product with its recommendation_source (similar, win_back, bought_together, novel,
    popular_in_market) and the reason in words. -#}
with

composed as (

    select * from {{ ref('int_recommendations__composed') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

current_lists as (

    select
        composed.customer_id,
        cast(composed.recommendation_rank as integer) as recommendation_rank,
        composed.product_id,
        composed.product_name,
        composed.category,
        composed.recommendation_source,
        composed.reason,
        composed.client_segment,
        cast(composed.source_score as double) as source_score,
        cast(composed.ranking_score as double) as ranking_score,
        cast(composed.margin_rate as double) as margin_rate,
        composed.stock_status,
        customers.email_opt_in,
        {{ as_of_date() }} as as_of_date
    from composed
    left join customers
        on composed.customer_id = customers.customer_id
    where composed.horizon = 'current'

)

select * from current_lists
