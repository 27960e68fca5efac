{#- One row per customer and past collection they adopted: a purchase of the
    collection's products within launch_adoption_days of its launch. -#}
with

collection_purchases as (

    select * from {{ ref('int_launch__collection_purchases') }}

),

adoption_lines as (

    select *
    from collection_purchases
    where days_after_launch < {{ var('launch_adoption_days') }}

),

adoptions as (

    select
        customer_id,
        collection_id,
        launch_date,
        min(order_date) as first_adoption_date,
        {{ dbt.datediff('launch_date', 'min(order_date)', 'day') }} as days_to_adopt,
        {{ exact_sum('net_amount') }} as adoption_amount,
        {{ exact_sum('case when coalesce(is_discounted, false) then 0 else net_amount end') }} as full_price_amount
    from adoption_lines
    group by customer_id, collection_id, launch_date

)

select * from adoptions
