-- Core: customers per market and RFM group with consent and purchase counts, from
-- dim_customers, fct_orders and customer_rfm.
with customers as (
    select * from read_parquet('../exports/current/dim_customers.parquet')
),

purchases as (
    select customer_id, count(*) as purchases
    from read_parquet('../exports/current/fct_orders.parquet')
    where is_purchase
    group by customer_id
),

segments as (
    select customer_id, rfm_group
    from read_parquet('../exports/current/customer_rfm.parquet')
)

select
    coalesce(customers.country, 'unknown') as country,
    coalesce(segments.rfm_group, 'no segment') as rfm_group,
    case
        when coalesce(purchases.purchases, 0) = 0 then '0 purchases'
        when purchases.purchases = 1 then '1 purchase'
        when purchases.purchases = 2 then '2 purchases'
        when purchases.purchases <= 5 then '3-5 purchases'
        else '6+ purchases'
    end as purchase_bucket,
    least(coalesce(purchases.purchases, 0), 6) as bucket_order,
    count(*) as customers,
    count(*) filter (where customers.email_opt_in) as email_opt_in,
    count(*) filter (where customers.email_opt_in or customers.phone_opt_in) as any_opt_in
from customers
left join purchases on customers.customer_id = purchases.customer_id
left join segments on customers.customer_id = segments.customer_id
group by all
