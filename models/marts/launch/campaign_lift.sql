{#- One row per launch campaign in campaign_contacts: conversion of contacted
    clients vs the held-out control group, from the campaign's own converted
    flag and from orders (bought the collection within launch_window_days of
    its launch), with the lift, the uplift and its 95% interval. Outcomes are
    complete once the window has passed as_of. -#}
with

contacts as (

    select * from {{ ref('stg_campaign_contacts') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

launches as (

    select
        collection_id,
        max(launch_date) as launch_date
    from products
    where collection_id is not null
    group by collection_id

),

window_buyers as (

    select * from {{ ref('int_launch__collection_window_buyers') }}

),

contact_outcomes as (

    select
        contacts.campaign_id,
        contacts.collection_id,
        launches.launch_date,
        contacts.is_control,
        contacts.converted,
        window_buyers.customer_id is not null as bought_in_window
    from contacts
    left join launches
        on contacts.collection_id = launches.collection_id
    left join window_buyers
        on
            contacts.customer_id = window_buyers.customer_id
            and contacts.collection_id = window_buyers.collection_id

),

by_campaign as (

    select
        campaign_id,
        max(collection_id) as collection_id,
        max(launch_date) as launch_date,
        count(case when not is_control then 1 end) as n_contacted,
        count(case when is_control then 1 end) as n_control,
        avg(case when not is_control then cast(converted as integer) end) as contacted_conversion,
        avg(case when is_control then cast(converted as integer) end) as control_conversion,
        avg(case when not is_control then cast(bought_in_window as integer) end) as contacted_order_conversion,
        avg(case when is_control then cast(bought_in_window as integer) end) as control_order_conversion
    from contact_outcomes
    group by campaign_id

),

lift as (

    select
        cast(campaign_id as varchar) as campaign_id,
        cast(collection_id as varchar) as collection_id,
        launch_date,
        coalesce(
            cast({{ dbt.dateadd('day', var('launch_window_days'), 'launch_date') }} as date)
            <= {{ as_of_date() }},
            false
        ) as is_outcome_complete,
        cast(n_contacted as bigint) as n_contacted,
        cast(n_control as bigint) as n_control,
        cast(contacted_conversion as double) as contacted_conversion,
        cast(control_conversion as double) as control_conversion,
        cast(contacted_conversion / nullif(control_conversion, 0) as double) as lift,
        cast(contacted_conversion - control_conversion as double) as uplift,
        cast(
            {{ difference_interval('contacted_conversion', 'n_contacted', 'control_conversion', 'n_control', 'lower') }}
            as double
        ) as uplift_ci_low,
        cast(
            {{ difference_interval('contacted_conversion', 'n_contacted', 'control_conversion', 'n_control', 'upper') }}
            as double
        ) as uplift_ci_high,
        cast(contacted_order_conversion as double) as contacted_order_conversion,
        cast(control_order_conversion as double) as control_order_conversion,
        cast(contacted_order_conversion / nullif(control_order_conversion, 0) as double) as order_lift
    from by_campaign

)

select * from lift
