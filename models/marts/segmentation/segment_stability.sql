{#- Adjusted Rand Index between the labelling at the reference date and each
    later month end, on the customers who were buyers at the reference date
    (all of them are still known later). Methods:
      rfm_groups: RFM group at the reference date vs recomputed at the later date;
      clusters: cluster at the reference date vs the model refitted at the later date;
      clusters_frozen_vs_refit: at the later date, the model frozen at the
        reference date vs the model refitted then (does an old model still
        describe today's customers?).
    ARI is computed from the contingency table in SQL
    (macro segmentation_adjusted_rand_index). -#}
with

history as (

    select * from {{ ref('segment_history') }}

),

reference as (

    select * from {{ ref('int_segmentation__reference_date') }}

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

paired as (

    select
        later.snapshot_date as compared_date,
        at_reference.snapshot_date as reference_date,
        at_reference.rfm_group as reference_rfm_group,
        later.rfm_group as later_rfm_group,
        at_reference.cluster_id_refit as reference_cluster_id,
        later.cluster_id_refit as later_cluster_id_refit,
        later.cluster_id_frozen as later_cluster_id_frozen
    from at_reference
    inner join later
        on at_reference.customer_id = later.customer_id

),

labelled as (

    select
        'rfm_groups' as method,  -- noqa: RF04
        reference_date,
        compared_date,
        reference_rfm_group as label_a,
        later_rfm_group as label_b
    from paired

    union all

    select
        'clusters' as method,  -- noqa: RF04
        reference_date,
        compared_date,
        cast(reference_cluster_id as varchar) as label_a,
        cast(later_cluster_id_refit as varchar) as label_b
    from paired
    where reference_cluster_id is not null and later_cluster_id_refit is not null

    union all

    select
        'clusters_frozen_vs_refit' as method,  -- noqa: RF04
        reference_date,
        compared_date,
        cast(later_cluster_id_frozen as varchar) as label_a,
        cast(later_cluster_id_refit as varchar) as label_b
    from paired
    where later_cluster_id_frozen is not null and later_cluster_id_refit is not null

),

contingency as (

    select
        method,
        reference_date,
        compared_date,
        label_a,
        label_b,
        count(*) as n,
        sum(case when label_a = label_b then 1 else 0 end) as n_same_label
    from labelled
    group by method, reference_date, compared_date, label_a, label_b

),

agreement as (

    select
        method,
        reference_date,
        compared_date,
        sum(n_same_label) / sum(n) as same_label_share
    from contingency
    group by method, reference_date, compared_date

),

ari as (

    {{ segmentation_adjusted_rand_index('contingency', ['method', 'reference_date', 'compared_date']) }}

),

stability as (

    select
        ari.method,
        ari.reference_date,
        ari.compared_date,
        cast({{ dbt.datediff('ari.reference_date', 'ari.compared_date', 'month') }} as integer) as horizon_months,
        cast({{ dbt.datediff('ari.reference_date', 'ari.compared_date', 'day') }} as integer) as horizon_days,
        cast(ari.n_customers as bigint) as n_customers,
        cast(ari.ari as double) as ari,
        cast(agreement.same_label_share as double) as same_label_share
    from ari
    inner join agreement
        on ari.method = agreement.method
            and ari.reference_date = agreement.reference_date
            and ari.compared_date = agreement.compared_date

)

select * from stability
