{#- One row per client who has purchased, for the upcoming collection: the
    three scores, the audience band, the priority score of the policy tuned
    on past launches (int_launch__audience_priority: the formula lives in
    clientele.launch.policy), the rank, the control flag and the top reasons
    in words. -#}
with

scores as (

    select * from {{ ref('int_launch__scores') }}

),

early_adopters as (

    select * from {{ ref('early_adopter_scores') }}

),

priorities as (

    select * from {{ ref('int_launch__audience_priority') }}

),

purchase_weights as (

    select * from {{ ref('int_launch__purchase_weights') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

upcoming as (

    select *
    from scores
    where is_upcoming

),

purchased as (

    select
        purchase_weights.customer_id,
        purchase_weights.purchase_weight,
        products.category,
        products.material,
        products.color
    from purchase_weights
    inner join upcoming
        on
            purchase_weights.reference_collection_id = upcoming.reference_collection_id
            and purchase_weights.customer_id = upcoming.customer_id
    inner join products
        on purchase_weights.product_id = products.product_id

),

taste_values as (

    select
        customer_id,
        'category' as attribute_name,
        category as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where category is not null
    group by customer_id, category

    union all

    select
        customer_id,
        'material' as attribute_name,
        material as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where material is not null
    group by customer_id, material

    union all

    select
        customer_id,
        'color' as attribute_name,
        color as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where color is not null
    group by customer_id, color

),

taste_top as (

    select
        *,
        row_number() over (partition by customer_id, attribute_name order by weight desc, attribute_value asc) as taste_rank
    from taste_values

),

tastes as (

    select
        customer_id,
        max(case when attribute_name = 'category' then attribute_value end) as top_category,
        max(case when attribute_name = 'material' then attribute_value end) as top_material,
        max(case when attribute_name = 'color' then attribute_value end) as top_color
    from taste_top
    where taste_rank = 1
    group by customer_id

),

prioritised as (

    select
        upcoming.customer_id,
        upcoming.reference_collection_id as collection_id,
        '{{ var("launch_campaign_prefix") }}' || upcoming.reference_collection_id as campaign_id,
        upcoming.lookalike_score,
        upcoming.appetence,
        upcoming.appetence_similarity,
        upcoming.early_adopter_score,
        upcoming.in_pool,
        upcoming.lookalike_band,
        upcoming.appetence_band,
        upcoming.audience_band,
        priorities.priority_score,
        early_adopters.early_adopter_reason,
        tastes.top_category,
        tastes.top_material,
        tastes.top_color
    from upcoming
    inner join priorities
        on upcoming.customer_id = priorities.customer_id
    left join early_adopters
        on upcoming.customer_id = early_adopters.customer_id
    left join tastes
        on upcoming.customer_id = tastes.customer_id

),

ranked as (

    select
        *,
        row_number() over (order by priority_score desc, customer_id asc) as priority_rank,
        {{ launch_hash_unit("customer_id || '|' || campaign_id") }}
        < {{ var('launch_control_share') }} as is_control
    from prioritised

),

reasoned as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(collection_id as varchar) as collection_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(lookalike_score as double) as lookalike_score,
        cast(appetence as double) as appetence,
        cast(early_adopter_score as double) as early_adopter_score,
        cast(in_pool as boolean) as in_pool,
        cast(lookalike_band as varchar) as lookalike_band,
        cast(appetence_band as varchar) as appetence_band,
        cast(audience_band as varchar) as audience_band,
        cast(priority_score as double) as priority_score,
        cast(priority_rank as bigint) as priority_rank,
        cast(is_control as boolean) as is_control,
        cast(concat_ws(
            '; ',
            early_adopter_reason,
            case
                when lookalike_score >= {{ var('launch_lookalike_high') }}
                    then 'profile like the early adopters (lookalike ' || cast(round(lookalike_score, 2) as varchar)
                        || ')'
            end,
            case
                when top_category is not null
                    then 'buys ' || coalesce(top_material || ' ', '') || top_category
                        || coalesce(' in ' || top_color, '')
            end,
            'appetence for the collection ' || cast(round(appetence, 2) as varchar)
            || ' (' || appetence_band || ')'
        ) as varchar) as top_reasons
    from ranked

)

select * from reasoned
