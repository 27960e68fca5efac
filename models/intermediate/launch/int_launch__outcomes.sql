{#- One row per past reference launch and customer of its population: did the
    customer buy the collection within launch_window_days of its launch, and
    was the customer in that launch's campaign (contacted or control)? -#}
with

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

population as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

contacts as (

    select * from {{ ref('stg_campaign_contacts') }}

),

window_buyers as (

    select * from {{ ref('int_launch__collection_window_buyers') }}

),

campaign as (

    select
        customer_id,
        collection_id,
        bool_or(is_control) as is_control,
        bool_or(not is_control) as is_contacted,
        bool_or(converted) as campaign_converted
    from contacts
    group by customer_id, collection_id

),

outcomes as (

    select
        population.reference_collection_id,
        population.customer_id,
        reference_launches.launch_date,
        window_buyers.customer_id is not null as converted,
        campaign.customer_id is not null as in_campaign,
        coalesce(campaign.is_control, false) as is_control,
        coalesce(campaign.is_contacted, false) as is_contacted,
        campaign.campaign_converted
    from population
    inner join reference_launches
        on population.reference_collection_id = reference_launches.collection_id
    left join window_buyers
        on
            population.customer_id = window_buyers.customer_id
            and population.reference_collection_id = window_buyers.collection_id
    left join campaign
        on
            population.customer_id = campaign.customer_id
            and population.reference_collection_id = campaign.collection_id
    where not reference_launches.is_upcoming

)

select * from outcomes
