{#- Adjusted Rand Index between the labelling at the reference date and each
    later month end, on the customers who were buyers at the reference date
    (all of them are still known later). Methods:
      rfm_groups: RFM group at the reference date vs recomputed at the later date;
      clusters: cluster at the reference date vs the model refitted at the later date;
      clusters_frozen_vs_refit: at the later date, the model frozen at the
        reference date vs the model refitted then (does an old model still
        describe today's customers?).
    ARI is computed from the contingency table in SQL
    (macro segmentation_adjusted_rand_index); the label pairs are counted in
    int_segmentation__label_pairs, which segment_transitions reads too. -#}
with

label_pairs as (

    select * from {{ ref('int_segmentation__label_pairs') }}

),

contingency as (

    select
        method,
        from_date as reference_date,
        to_date as compared_date,
        label_a,
        label_b,
        n_customers as n,
        case when label_a = label_b then n_customers else 0 end as n_same_label
    from label_pairs
    where comparison = 'since_reference'

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
