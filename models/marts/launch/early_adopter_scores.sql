{#- One row per client who has purchased, for the upcoming collection: the
    business-rule early-adopter features and score, and pool membership. -#}
with

features as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

upcoming as (

    select features.*
    from features
    inner join reference_launches
        on features.reference_collection_id = reference_launches.collection_id
    where reference_launches.is_upcoming

),

described as (

    select
        customer_id,
        reference_collection_id as collection_id,
        cutoff_date,
        cast(eligible_launches as bigint) as eligible_launches,
        cast(launches_adopted as bigint) as launches_adopted,
        cast(recent_eligible_launches as bigint) as recent_eligible_launches,
        cast(recent_launches_adopted as bigint) as recent_launches_adopted,
        cast(avg_days_to_adopt as double) as avg_days_to_adopt,
        last_adoption_date,
        cast(days_since_last_adoption as bigint) as days_since_last_adoption,
        cast(adoption_rate as double) as adoption_rate,
        cast(recent_adoption_share as double) as recent_adoption_share,
        cast(speed as double) as speed,
        cast(new_season_spend_share as double) as new_season_spend_share,
        cast(full_price_share as double) as full_price_share,
        cast(recency as double) as recency,
        cast(early_adopter_score as double) as early_adopter_score,
        cast(early_adopter_rank as bigint) as early_adopter_rank,
        in_pool,
        case
            when recent_launches_adopted > 0
                then 'bought ' || cast(recent_launches_adopted as varchar) || ' of the last '
                    || cast(recent_eligible_launches as varchar) || ' launches, '
                    || cast(cast(round(avg_days_to_adopt) as bigint) as varchar) || ' days after launch on average'
            when launches_adopted > 0
                then 'bought ' || cast(launches_adopted as varchar) || ' earlier collection'
                    || case when launches_adopted > 1 then 's' else '' end
                    || ' within {{ var("launch_adoption_days") }} days of its launch'
        end as early_adopter_reason
    from upcoming

)

select * from described
