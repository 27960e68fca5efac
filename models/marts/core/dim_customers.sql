with

customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

purchase_summary as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as purchase_count,
        {{ exact_sum('net_amount') }} as purchase_amount
    from orders
    where is_purchase
    group by customer_id

),

returns_summary as (

    select
        customer_id,
        -{{ exact_sum('net_amount') }} as returned_amount
    from orders
    where is_return
    group by customer_id

),

known_as_of as (

    select *
    from customers
    where first_seen_at is null or cast(first_seen_at as date) <= {{ as_of_date() }}

),

customer_summary as (

    select
        known_as_of.customer_id,
        known_as_of.first_seen_at,
        known_as_of.country,
        known_as_of.city,
        known_as_of.gender,
        known_as_of.birth_year,
        extract(year from {{ as_of_date() }}) - known_as_of.birth_year as age,
        known_as_of.home_store_id,
        known_as_of.advisor_id,
        known_as_of.email_opt_in,
        known_as_of.phone_opt_in,
        purchase_summary.first_order_at,
        purchase_summary.last_order_at,
        coalesce(purchase_summary.purchase_count, 0) as purchase_count,
        coalesce(purchase_summary.purchase_amount, 0) as purchase_amount,
        coalesce(returns_summary.returned_amount, 0) as returned_amount,
        coalesce(purchase_summary.purchase_amount, 0)
        - coalesce(returns_summary.returned_amount, 0) as net_spend,
        coalesce(purchase_summary.purchase_count, 0) = 0 as is_prospect,
        coalesce(purchase_summary.purchase_count, 0) >= 2 as is_repeat_buyer
    from known_as_of
    left join purchase_summary
        on known_as_of.customer_id = purchase_summary.customer_id
    left join returns_summary
        on known_as_of.customer_id = returns_summary.customer_id

)

select * from customer_summary
