-- Core: purchases per month, market and RFM group, from fct_orders (aggregated here so the
-- report does not ship every order to the browser). The RFM group (customer_rfm, today's
-- segment of the buyer) lets every page filter by market, segment and date.
with orders as (
    select * from read_parquet('../exports/current/fct_orders.parquet')
    where is_purchase
),

segments as (
    select customer_id, rfm_group
    from read_parquet('../exports/current/customer_rfm.parquet')
)

select
    cast(date_trunc('month', orders.order_date) as date) as month,
    coalesce(orders.country, 'unknown') as country,
    coalesce(segments.rfm_group, 'no segment') as rfm_group,
    count(*) as orders,
    count(distinct orders.customer_id) as customers,
    sum(orders.net_amount) as revenue,
    count(*) filter (where orders.purchase_number = 1) as first_orders,
    count(*) filter (where orders.purchase_number = 2) as second_orders,
    avg(orders.review_score) as avg_review_score
from orders
left join segments on orders.customer_id = segments.customer_id
group by all
