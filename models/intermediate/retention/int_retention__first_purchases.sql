{#- One row per customer with a purchase up to as_of: the first basket (value,
    size, discount, categories, price band, lead line's family, review, delivery), the profile
    (market, age, gender, consent, store) and the date of the second purchase
    when there is one. The features the second-purchase model starts from. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

first_orders as (

    select *
    from orders
    where purchase_number = 1

),

second_orders as (

    select
        customer_id,
        order_date as second_order_date
    from orders
    where purchase_number = 2

),

first_basket_lines as (

    select
        first_orders.customer_id,
        order_lines.line_number,
        order_lines.product_id,
        order_lines.net_amount,
        order_lines.quantity,
        products.category,
        products.family,
        products.price_band
    from first_orders
    inner join order_lines
        on first_orders.order_id = order_lines.order_id
    inner join products
        on order_lines.product_id = products.product_id
    where order_lines.is_merchandise_purchase

),

category_amounts as (

    select
        customer_id,
        category,
        {{ exact_sum('net_amount') }} as category_amount
    from first_basket_lines
    group by customer_id, category

),

top_categories as (

    select
        customer_id,
        category as first_order_top_category
    from category_amounts
    qualify row_number() over (
            partition by customer_id order by category_amount desc, category asc
        ) = 1

),

lead_lines as (

    -- The first line of the basket is the item the client came for (a routine
    -- product that runs out, say); the rest is often what went with it.
    select
        customer_id,
        family as first_order_lead_family
    from first_basket_lines
    qualify row_number() over (
            partition by customer_id order by line_number asc, product_id asc
        ) = 1

),

basket_summary as (

    select
        customer_id,
        count(distinct category) as first_order_categories,
        avg(price_band) as first_order_price_band
    from first_basket_lines
    group by customer_id

),

first_purchases as (

    select
        first_orders.customer_id,
        coalesce(customers.country, first_orders.country, 'unknown') as market,
        first_orders.order_date as first_order_date,
        second_orders.second_order_date,
        first_orders.channel as first_order_channel,
        first_orders.merchandise_amount as first_order_value,
        first_orders.net_units as first_order_units,
        first_orders.line_count as first_order_lines,
        first_orders.discount_amount
        / nullif(first_orders.merchandise_amount + first_orders.discount_amount, 0)
            as first_order_discount_share,
        coalesce(basket_summary.first_order_categories, 0) as first_order_categories,
        basket_summary.first_order_price_band,
        coalesce(top_categories.first_order_top_category, 'unknown') as first_order_top_category,
        lead_lines.first_order_lead_family,
        first_orders.review_score as first_order_review_score,
        case when first_orders.is_late_delivery then 1 when not first_orders.is_late_delivery then 0 end
            as first_order_late,
        customers.age,
        coalesce(customers.gender, 'unknown') as gender,
        customers.email_opt_in,
        customers.phone_opt_in,
        customers.home_store_id is not null as has_home_store,
        {{ dbt.datediff('customers.first_seen_at', 'first_orders.ordered_at', 'day') }}
            as days_known_before_first_order
    from first_orders
    left join customers
        on first_orders.customer_id = customers.customer_id
    left join second_orders
        on first_orders.customer_id = second_orders.customer_id
    left join basket_summary
        on first_orders.customer_id = basket_summary.customer_id
    left join top_categories
        on first_orders.customer_id = top_categories.customer_id
    left join lead_lines
        on first_orders.customer_id = lead_lines.customer_id

)

select * from first_purchases
