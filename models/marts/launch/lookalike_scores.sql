{#- One row per client who has purchased, for the upcoming collection: the
    out-of-fold, PU-calibrated lookalike of the early-adopter pool. -#}
with

scores as (

    select * from {{ ref('int_launch__lookalike_scores') }}

),

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

ranked as (

    select
        *,
        {{ launch_percentile('lookalike_raw', 'reference_collection_id') }} as lookalike_percentile
    from scores

),

upcoming as (

    select
        cast(ranked.customer_id as varchar) as customer_id,
        cast(ranked.reference_collection_id as varchar) as collection_id,
        cast(ranked.in_pool as boolean) as in_pool,
        cast(ranked.lookalike_raw as double) as lookalike_raw,
        cast(ranked.lookalike_score as double) as lookalike_score,
        cast(ranked.lookalike_percentile as double) as lookalike_percentile
    from ranked
    inner join reference_launches
        on ranked.reference_collection_id = reference_launches.collection_id
    where reference_launches.is_upcoming

)

select * from upcoming
