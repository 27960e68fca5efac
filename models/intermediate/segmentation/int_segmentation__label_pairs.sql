{#- How the segments of the same customers pair up between two month ends, counted per
    pair of labels: what segment_stability (the reference month end against each later
    one) and segment_transitions (each month end against the next) are both computed
    from. comparison since_reference: buyers at the reference date; methods rfm_groups
    (groups recomputed at each date), clusters (the model refitted at each date) and
    clusters_frozen_vs_refit (at the later date, the model frozen at the reference date
    against the refitted one). comparison month_to_month: every customer known at both
    dates; methods rfm_groups and clusters (the frozen model, so ids are comparable). -#}
with

history as (

    select * from {{ ref('segment_history') }}

),

reference as (

    select * from {{ ref('int_segmentation__reference_date') }}

),

periods as (

    select
        snapshot_date as period_start,
        lead(snapshot_date) over (order by snapshot_date) as period_end
    from (select distinct snapshot_date from history) as dates

),

at_reference as (

    select history.*
    from history
    inner join reference
        on history.snapshot_date = reference.reference_date
    where history.is_buyer

),

later as (

    select history.*
    from history
    inner join reference
        on history.snapshot_date >= reference.reference_date

),

-- One row per customer and pair of dates, with the labels each method compares.
since_reference as (

    select
        'since_reference' as comparison,
        at_reference.snapshot_date as from_date,
        later.snapshot_date as to_date,
        at_reference.rfm_group as from_rfm_group,
        later.rfm_group as to_rfm_group,
        at_reference.cluster_id_refit as from_cluster_id,
        later.cluster_id_refit as to_cluster_id,
        later.cluster_id_frozen as to_cluster_id_frozen
    from at_reference
    inner join later
        on at_reference.customer_id = later.customer_id

),

-- Each month end's rows with the next month end, so that the next state joins on both
-- the date and the customer (joined on the customer alone, a million customers made
-- hundreds of millions of rows before the date filter).
period_starts as (

    select
        history.*,
        periods.period_end
    from history
    inner join periods
        on history.snapshot_date = periods.period_start

),

month_to_month as (

    select
        'month_to_month' as comparison,
        start_state.snapshot_date as from_date,
        start_state.period_end as to_date,
        start_state.rfm_group as from_rfm_group,
        end_state.rfm_group as to_rfm_group,
        start_state.cluster_id_frozen as from_cluster_id,
        end_state.cluster_id_frozen as to_cluster_id,
        cast(null as integer) as to_cluster_id_frozen
    from period_starts as start_state
    inner join history as end_state
        on
            start_state.period_end = end_state.snapshot_date
            and start_state.customer_id = end_state.customer_id

),

customer_pairs as (

    select * from since_reference
    union all
    select * from month_to_month

),

labelled as (

    select
        comparison,
        'rfm_groups' as method,  -- noqa: RF04
        from_date,
        to_date,
        from_rfm_group as label_a,
        to_rfm_group as label_b
    from customer_pairs

    union all

    select
        comparison,
        'clusters' as method,  -- noqa: RF04
        from_date,
        to_date,
        cast(from_cluster_id as varchar) as label_a,
        cast(to_cluster_id as varchar) as label_b
    from customer_pairs
    where from_cluster_id is not null and to_cluster_id is not null

    union all

    select
        comparison,
        'clusters_frozen_vs_refit' as method,  -- noqa: RF04
        from_date,
        to_date,
        cast(to_cluster_id_frozen as varchar) as label_a,
        cast(to_cluster_id as varchar) as label_b
    from customer_pairs
    where
        comparison = 'since_reference'
        and to_cluster_id_frozen is not null and to_cluster_id is not null

),

counted as (

    select
        comparison,
        method,
        from_date,
        to_date,
        label_a,
        label_b,
        count(*) as n_customers
    from labelled
    group by comparison, method, from_date, to_date, label_a, label_b

)

select * from counted
