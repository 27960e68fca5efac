{#- R, F, M scores (1-5, 5 best) and the named RFM group of every customer at
    every snapshot date. Scores are computed within each snapshot date among
    buyers, so that equal values always get equal scores (no arbitrary ntile
    split of ties):
      R = 1 + floor(5 x percent_rank of recency, most recent last), capped at 5
      M = 1 + floor(5 x percent_rank of net spend), capped at 5
      F = 1 for one order; repeat buyers get 2-5 from the quartile of their
          order count among repeat buyers (2 + floor(4 x percent_rank), capped).
    With ~97% one-order customers a frequency quintile is meaningless: they all
    get F = 1 (the honest score of "one order") and R and M separate them.
    FM = round-half-up of (F + M) / 2; the group comes from the seed
    segmentation_rfm_groups (R x FM grid, editable). Customers without a
    purchase are Prospects when they never ordered, and "Refunds or free items
    only" when their only orders are returns or zero-priced (not a prospect to
    welcome: a case for customer service).

    Percent ranks come from int_segmentation__rfm_percentiles. A view:
    segment_history (month ends) and customer_rfm (as_of) each materialise
    the rows they need; storing all 15M customer-months of a 1M customer
    brand a second time cost more than looking the scores up. -#}
{{ config(materialized='view') }}

with

snapshots as (

    select * from {{ ref('int_segmentation__customer_snapshots') }}

),

rfm_percentiles as (

    select * from {{ ref('int_segmentation__rfm_percentiles') }}

),

rfm_groups as (

    select * from {{ ref('segmentation_rfm_groups') }}

),

group_descriptions as (

    select * from {{ ref('segmentation_rfm_group_descriptions') }}

),

recency_percentiles as (

    select
        snapshot_date,
        -ranked_value as recency_days,
        percentile as recency_percentile
    from rfm_percentiles
    where measure = 'recency'

),

monetary_percentiles as (

    select
        snapshot_date,
        ranked_value as monetary,
        true as is_buyer,
        percentile as monetary_percentile
    from rfm_percentiles
    where measure = 'monetary'

),

repeat_frequency_percentiles as (

    select
        snapshot_date,
        ranked_value as frequency,
        percentile as repeat_frequency_percentile
    from rfm_percentiles
    where measure = 'repeat_frequency'

),

ranked as (

    select
        snapshots.*,
        recency_percentiles.recency_percentile,
        monetary_percentiles.monetary_percentile,
        repeat_frequency_percentiles.repeat_frequency_percentile
    from snapshots
    left join recency_percentiles
        on snapshots.snapshot_date = recency_percentiles.snapshot_date
            and snapshots.recency_days = recency_percentiles.recency_days
    left join monetary_percentiles
        on snapshots.snapshot_date = monetary_percentiles.snapshot_date
            and snapshots.monetary = monetary_percentiles.monetary
            and snapshots.is_buyer = monetary_percentiles.is_buyer
    left join repeat_frequency_percentiles
        on snapshots.snapshot_date = repeat_frequency_percentiles.snapshot_date
            and snapshots.frequency = repeat_frequency_percentiles.frequency

),

scored as (

    select
        ranked.* exclude (repeat_frequency_percentile),  -- noqa: RF03
        cast(
            case when ranked.is_buyer then least(5, 1 + floor(5 * ranked.recency_percentile)) end as integer
        ) as r_score,
        cast(
            case
                when ranked.frequency = 1 then 1
                when ranked.frequency >= 2 then least(5, 2 + floor(4 * ranked.repeat_frequency_percentile))
            end as integer
        ) as f_score,
        cast(
            case when ranked.is_buyer then least(5, 1 + floor(5 * ranked.monetary_percentile)) end as integer
        ) as m_score
    from ranked

),

grouped as (

    select
        scored.*,
        cast(floor((scored.f_score + scored.m_score + 1) / 2) as integer) as fm_score,
        cast(100 * scored.r_score + 10 * scored.f_score + scored.m_score as varchar) as rfm_cell
    from scored

),

-- one lookup on integer scores instead of a second join on the group name:
-- prospects have no scores and take the key (0, 0)
group_lookup as (

    select
        rfm_groups.r_score,
        rfm_groups.fm_score,
        rfm_groups.rfm_group,
        group_descriptions.group_rank,
        group_descriptions.is_good_group
    from rfm_groups
    left join group_descriptions
        on rfm_groups.rfm_group = group_descriptions.rfm_group

    union all

    select
        0 as r_score,
        0 as fm_score,
        rfm_group,
        group_rank,
        is_good_group
    from group_descriptions
    where rfm_group = 'Prospects'

    union all

    select
        -1 as r_score,
        -1 as fm_score,
        rfm_group,
        group_rank,
        is_good_group
    from group_descriptions
    where rfm_group = 'Refunds or free items only'

),

described as (

    select
        grouped.*,
        case
            when grouped.has_unpaid_orders_only then 'Refunds or free items only'
            when not grouped.is_buyer then 'Prospects'
            else coalesce(group_lookup.rfm_group, 'Unmapped')
        end as rfm_group,
        group_lookup.group_rank,
        coalesce(group_lookup.is_good_group, false) as is_good_group
    from grouped
    left join group_lookup
        on coalesce(grouped.r_score, case when grouped.has_unpaid_orders_only then -1 else 0 end)
            = group_lookup.r_score
            and coalesce(grouped.fm_score, case when grouped.has_unpaid_orders_only then -1 else 0 end)
            = group_lookup.fm_score

)

select * from described
