{#- One row per client who has purchased, for the upcoming collection: the
    out-of-fold, PU-calibrated lookalike of the early-adopter pool. -#}
with

scores as (

    select * from {{ ref('int_launch__lookalike_scores') }}

),

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

upcoming as (

    select
        cast(scores.customer_id as varchar) as customer_id,
        cast(scores.reference_collection_id as varchar) as collection_id,
        cast(scores.in_pool as boolean) as in_pool,
        cast(scores.lookalike_raw as double) as lookalike_raw,
        cast(scores.lookalike_score as double) as lookalike_score,
        cast(scores.lookalike_percentile as double) as lookalike_percentile
    from scores
    inner join reference_launches
        on scores.reference_collection_id = reference_launches.collection_id
    where reference_launches.is_upcoming

)

select * from upcoming
