{#- Migration matrix between consecutive month ends: how many customers of
    each segment at the start of the month are in each segment at its end.
    rfm_groups: every customer known at both dates (prospects included);
    clusters: the model frozen at the reference date (same centres at both
    dates, so the ids are comparable), buyers from the reference date on.
    The label pairs are counted in int_segmentation__label_pairs. -#}
with

label_pairs as (

    select * from {{ ref('int_segmentation__label_pairs') }}

),

counted as (

    select
        method,
        from_date as period_start,
        to_date as period_end,
        label_a as from_segment,
        label_b as to_segment,
        n_customers
    from label_pairs
    where comparison = 'month_to_month'

),

matrix as (

    select
        method,
        period_start,
        period_end,
        from_segment,
        to_segment,
        cast(n_customers as bigint) as n_customers,
        n_customers / sum(n_customers) over (partition by method, period_start, from_segment) as share_of_from,
        from_segment = to_segment as is_same_segment
    from counted

)

select * from matrix
