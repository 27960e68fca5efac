{#- What the lookalike of the upcoming launch learned from: each feature's
    importance (gain), the mean over the fold models int_launch__lookalike_models
    fitted, ranked. -#}
with

models as (

    select * from {{ ref('int_launch__lookalike_models') }}

),

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

upcoming_models as (

    select models.*
    from models
    inner join reference_launches
        on models.reference_collection_id = reference_launches.collection_id
    where reference_launches.is_upcoming

),

per_fold as (

    -- The two lists are aligned: unnested side by side, one row per fold and feature.
    select
        reference_collection_id,
        fold,
        unnest(feature_names) as feature,
        unnest(importances) as importance
    from upcoming_models

),

averaged as (

    select
        reference_collection_id,
        feature,
        avg(importance) as importance
    from per_fold
    group by reference_collection_id, feature

),

ranked as (

    select
        cast(reference_collection_id as varchar) as reference_collection_id,
        cast(feature as varchar) as feature,
        cast(importance as double) as importance,
        cast(row_number() over (
            partition by reference_collection_id order by importance desc, feature asc
        ) as integer) as importance_rank
    from averaged

)

select * from ranked
