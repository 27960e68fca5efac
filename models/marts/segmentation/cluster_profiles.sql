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

group_sizes as (

    select
        cluster_id,
        rfm_group,
        count(*) as n_customers
    from joined
    group by cluster_id, rfm_group

),

main_groups as (

    -- The most common RFM group of each cluster; a tie goes to the first name.
    select
        cluster_id,
        rfm_group as main_rfm_group
    from (
        select
            cluster_id,
            rfm_group,
            row_number() over (partition by cluster_id order by n_customers desc, rfm_group asc) as group_rank
        from group_sizes
    ) as ranked_groups
    where group_rank = 1

),

profiles as (

    select
        cast(joined.cluster_id as integer) as cluster_id,
        any_value(joined.cluster_label) as cluster_label,
        any_value(joined.cluster_description) as cluster_description,
        any_value(joined.suggested_action) as suggested_action,
        count(*) as n_customers,
        {{ exact_sum('greatest(joined.monetary, 0)') }} as revenue,
        avg(joined.recency_days) as avg_recency_days,
        avg(joined.frequency) as avg_frequency,
        avg(case when joined.frequency >= 2 then 1.0 else 0.0 end) as repeat_buyer_share,
        {{ exact_avg('joined.monetary') }} as avg_monetary,
        {{ exact_avg('joined.avg_basket') }} as avg_basket,
        {{ exact_avg('joined.avg_days_between_orders') }} as avg_days_between_orders,
        {{ exact_avg('joined.avg_review_score') }} as avg_review_score,
        {{ exact_avg('joined.low_review_share') }} as low_review_share,
        {{ exact_avg('joined.late_delivery_share') }} as late_delivery_share,
        any_value(main_groups.main_rfm_group) as main_rfm_group,
        cast(any_value(joined.as_of_date) as date) as as_of_date
    from joined
    left join main_groups
        on joined.cluster_id = main_groups.cluster_id
    group by joined.cluster_id

),

shares as (

    select
        cluster_id,
        cluster_label,
        n_customers,
        n_customers / sum(n_customers) over () as customer_share,
        revenue,
        coalesce(revenue / nullif({{ exact_sum('revenue', over='') }}, 0), 0) as revenue_share,
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
