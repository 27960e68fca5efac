{#- Per horizon, client (of int_recommendations__clients) and product: what "bought
    together" proposes, from the market-basket rules (int_recommendations__item_cooccurrence)
    whose antecedent is among the recommendations_basket_antecedents products the client
    bought last; for each product the rule behind it, the most confident, ties broken by
    lift, then by the antecedent, so that the reason names one antecedent whatever the
    row order. A table of its own: inside int_recommendations__candidates, these tens of
    millions of rows at a million clients did not fit DuckDB's memory limit. -#}
with

client_products as (

    select * from {{ ref('int_recommendations__client_products') }}

),

rules as (

    select * from {{ ref('int_recommendations__item_cooccurrence') }}

),

antecedents_ranked as (

    select
        horizon,
        customer_id,
        product_id,
        row_number() over (
            partition by horizon, customer_id order by last_bought_on desc, product_id asc
        ) as recency_rank
    from client_products
    where was_bought

),

-- The client's most recently bought products are what "bought together" completes.
antecedents as (

    select *
    from antecedents_ranked
    where recency_rank <= {{ var('recommendations_basket_antecedents') }}

),

together_ranked as (

    select
        antecedents.horizon,
        antecedents.customer_id,
        rules.consequent_product_id as product_id,
        rules.confidence,
        rules.antecedent_product_id,
        rules.lift,
        row_number() over (
            partition by antecedents.horizon, antecedents.customer_id, rules.consequent_product_id
            order by rules.confidence desc, rules.lift desc, rules.antecedent_product_id asc
        ) as rule_rank
    from antecedents
    inner join rules
        on
            antecedents.horizon = rules.horizon
            and antecedents.product_id = rules.antecedent_product_id

),

bought_together as (

    select * exclude (rule_rank)
    from together_ranked
    where rule_rank = 1

)

select * from bought_together
