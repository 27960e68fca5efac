-- Core: purchases per month and market, from fct_orders (aggregated here so the
-- report does not ship every order to the browser).
select
    cast(date_trunc('month', order_date) as date) as month,
    country,
    count(*) as orders,
    count(distinct customer_id) as customers,
    sum(net_amount) as revenue,
    count(*) filter (where purchase_number = 1) as first_orders,
    count(*) filter (where purchase_number = 2) as second_orders,
    avg(review_score) as avg_review_score
from read_parquet('../exports/current/fct_orders.parquet')
where is_purchase
group by all
