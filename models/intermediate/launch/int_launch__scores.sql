{#- One row per reference launch and customer: the three scores as known
    before the cutoff, their bands and, for past launches, the outcome. The
    backtest of audience_policy and audience_band_conversion reads it; the
    upcoming launch's rows feed launch_audience. -#}
with

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

early_adopters as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

lookalike_scores as (

    select * from {{ ref('int_launch__lookalike_scores') }}

),

collection_appetence as (

    select * from {{ ref('int_launch__collection_appetence') }}

),

outcomes as (

    select * from {{ ref('int_launch__outcomes') }}

),

lookalike as (

    select
        *,
        {{ launch_percentile('lookalike_raw', 'reference_collection_id') }} as lookalike_percentile
    from lookalike_scores

),

appetence as (

    -- Appetence is the similarity's percentile among the launch's clients who bought.
    select
        *,
        {{ launch_percentile('appetence_similarity', 'reference_collection_id') }} as appetence
    from collection_appetence

),

joined as (

    select
        early_adopters.reference_collection_id,
        early_adopters.customer_id,
        reference_launches.launch_date,
        reference_launches.is_upcoming,
        early_adopters.early_adopter_score,
        early_adopters.early_adopter_rank,
        early_adopters.in_pool,
        -- A launch the lookalike could not learn (pool too small) falls back to the pool itself.
        coalesce(lookalike.lookalike_score, case when early_adopters.in_pool then 1.0 else 0.0 end)
            as lookalike_score,
        lookalike.lookalike_percentile,
        coalesce(appetence.appetence, 0.0) as appetence,
        appetence.appetence_similarity,
        outcomes.converted,
        outcomes.in_campaign,
        outcomes.is_control as was_control,
        outcomes.is_contacted as was_contacted,
        outcomes.campaign_converted
    from early_adopters
    inner join reference_launches
        on early_adopters.reference_collection_id = reference_launches.collection_id
    left join lookalike
        on
            early_adopters.reference_collection_id = lookalike.reference_collection_id
            and early_adopters.customer_id = lookalike.customer_id
    left join appetence
        on
            early_adopters.reference_collection_id = appetence.reference_collection_id
            and early_adopters.customer_id = appetence.customer_id
    left join outcomes
        on
            early_adopters.reference_collection_id = outcomes.reference_collection_id
            and early_adopters.customer_id = outcomes.customer_id

),

banded as (

    select
        *,
        case
            when lookalike_score >= {{ var('launch_lookalike_high') }} then 'high'
            when lookalike_score >= {{ var('launch_lookalike_mid') }} then 'mid'
            else 'low'
        end as lookalike_band,
        case
            when appetence > {{ var('launch_appetence_high') }} then 'high'
            when appetence >= {{ var('launch_appetence_mid') }} then 'mid'
            else 'low'
        end as appetence_band
    from joined

),

with_band as (

    select
        *,
        'lookalike ' || lookalike_band || ' x appetence ' || appetence_band as audience_band
    from banded

)

select * from with_band
