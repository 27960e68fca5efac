{#- Migration matrix between consecutive month ends: how many customers of
    each segment at the start of the month are in each segment at its end.
    rfm_groups: every customer known at both dates (prospects included);
    clusters: the model frozen at the reference date (same centres at both
    dates, so the ids are comparable), buyers from the reference date on. -#}
with

history as (

    select * from {{ ref('segment_history') }}

),

periods as (

    select
        snapshot_date as period_start,
        lead(snapshot_date) over (order by snapshot_date) as period_end
    from (select distinct snapshot_date from history) as dates

),

moves as (

    select
        periods.period_start,
        periods.period_end,
        start_state.rfm_group as start_rfm_group,
        end_state.rfm_group as end_rfm_group,
        start_state.cluster_id_frozen as start_cluster_id,
        end_state.cluster_id_frozen as end_cluster_id
    from periods
    inner join history as start_state
        on periods.period_start = start_state.snapshot_date
    inner join history as end_state
        on periods.period_end = end_state.snapshot_date
            and start_state.customer_id = end_state.customer_id

),

labelled as (

    select
        'rfm_groups' as method,  -- noqa: RF04
        period_start,
        period_end,
        start_rfm_group as from_segment,
        end_rfm_group as to_segment
    from moves

    union all

    select
        'clusters' as method,  -- noqa: RF04
        period_start,
        period_end,
        cast(start_cluster_id as varchar) as from_segment,
        cast(end_cluster_id as varchar) as to_segment
    from moves
    where start_cluster_id is not null and end_cluster_id is not null

),

counted as (

    select
        method,
        period_start,
        period_end,
        from_segment,
        to_segment,
        count(*) as n_customers
    from labelled
    group by method, period_start, period_end, from_segment, to_segment

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
