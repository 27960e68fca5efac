{#- Who bought each collection within launch_window_days of its launch: the
    outcome of a launch, for backtests (int_launch__outcomes) and for campaign
    lift (campaign_lift) alike. -#}
with

collection_purchases as (

    select * from {{ ref('int_launch__collection_purchases') }}

),

window_buyers as (

    select distinct
        customer_id,
        collection_id
    from collection_purchases
    where days_after_launch < {{ var('launch_window_days') }}

)

select * from window_buyers
