{#- One row per cluster at as_of (0 = prospects): size, revenue share, feature
    means, label and suggested action. cluster_id 1 is the highest mean net
    spend, so ids keep their meaning between runs. Sums and means of doubles
    go through decimals: exact, so the figures do not depend on the order in
    which (parallel) scans deliver the rows, and two builds are identical. -#}
with

clusters as (

    select * from {{ ref('customer_clusters') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

joined as (

    select
        clusters.cluster_id,
        clusters.cluster_label,
        clusters.cluster_description,
        clusters.suggested_action,
        clusters.as_of_date,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.avg_basket,
        rfm.avg_review_score,
        rfm.low_review_share,
        rfm.late_delivery_share,
        rfm.avg_days_between_orders,
        rfm.rfm_group
    from clusters
    inner join rfm
        on clusters.customer_id = rfm.customer_id

),

profiles as (

    select
        cast(cluster_id as integer) as cluster_id,
        any_value(cluster_label) as cluster_label,
        any_value(cluster_description) as cluster_description,
        any_value(suggested_action) as suggested_action,
        count(*) as n_customers,
        sum(cast(greatest(monetary, 0) as decimal(38, 10))) as exact_revenue,
        avg(recency_days) as avg_recency_days,
        avg(frequency) as avg_frequency,
        avg(case when frequency >= 2 then 1.0 else 0.0 end) as repeat_buyer_share,
        avg(cast(monetary as decimal(38, 10))) as avg_monetary,
        avg(cast(avg_basket as decimal(38, 10))) as avg_basket,
        avg(cast(avg_days_between_orders as decimal(38, 10))) as avg_days_between_orders,
        avg(cast(avg_review_score as decimal(38, 10))) as avg_review_score,
        avg(cast(low_review_share as decimal(38, 10))) as low_review_share,
        avg(cast(late_delivery_share as decimal(38, 10))) as late_delivery_share,
        mode(rfm_group) as main_rfm_group,
        cast(any_value(as_of_date) as date) as as_of_date
    from joined
    group by cluster_id

),

shares as (

    select
        cluster_id,
        cluster_label,
        n_customers,
        n_customers / sum(n_customers) over () as customer_share,
        cast(exact_revenue as double) as revenue,
        coalesce(exact_revenue / nullif(sum(exact_revenue) over (), 0), 0) as revenue_share,
        avg_recency_days,
        avg_frequency,
        repeat_buyer_share,
        avg_monetary,
        avg_basket,
        avg_days_between_orders,
        avg_review_score,
        low_review_share,
        late_delivery_share,
        main_rfm_group,
        cluster_description,
        suggested_action,
        as_of_date
    from profiles

)

select * from shares
order by cluster_id = 0, cluster_id
