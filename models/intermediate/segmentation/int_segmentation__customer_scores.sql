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
    purchase are Prospects. -#}
with

snapshots as (

    select * from {{ ref('int_segmentation__customer_snapshots') }}

),

rfm_groups as (

    select * from {{ ref('segmentation_rfm_groups') }}

),

group_descriptions as (

    select * from {{ ref('segmentation_rfm_group_descriptions') }}

),

buyers_ranked as (

    select
        snapshot_date,
        customer_id,
        percent_rank() over (partition by snapshot_date order by recency_days desc) as recency_percentile,
        percent_rank() over (partition by snapshot_date order by monetary) as monetary_percentile,
        case
            when frequency >= 2
                then percent_rank() over (partition by snapshot_date, frequency >= 2 order by frequency)
        end as repeat_frequency_percentile,
        frequency
    from snapshots
    where is_buyer

),

buyers_scored as (

    select
        snapshot_date,
        customer_id,
        recency_percentile,
        monetary_percentile,
        cast(least(5, 1 + floor(5 * recency_percentile)) as integer) as r_score,
        cast(
            case
                when frequency = 1 then 1
                else least(5, 2 + floor(4 * repeat_frequency_percentile))
            end as integer
        ) as f_score,
        cast(least(5, 1 + floor(5 * monetary_percentile)) as integer) as m_score
    from buyers_ranked

),

buyers_grouped as (

    select
        buyers_scored.*,
        cast(floor((buyers_scored.f_score + buyers_scored.m_score + 1) / 2) as integer) as fm_score,
        cast(buyers_scored.r_score as varchar)
        || cast(buyers_scored.f_score as varchar)
        || cast(buyers_scored.m_score as varchar) as rfm_cell
    from buyers_scored

),

scored as (

    select
        snapshots.*,
        buyers_grouped.recency_percentile,
        buyers_grouped.monetary_percentile,
        buyers_grouped.r_score,
        buyers_grouped.f_score,
        buyers_grouped.m_score,
        buyers_grouped.fm_score,
        buyers_grouped.rfm_cell,
        case
            when not snapshots.is_buyer then 'Prospects'
            else coalesce(rfm_groups.rfm_group, 'Unmapped')
        end as rfm_group
    from snapshots
    left join buyers_grouped
        on snapshots.snapshot_date = buyers_grouped.snapshot_date
            and snapshots.customer_id = buyers_grouped.customer_id
    left join rfm_groups
        on buyers_grouped.r_score = rfm_groups.r_score
            and buyers_grouped.fm_score = rfm_groups.fm_score

),

described as (

    select
        scored.*,
        group_descriptions.group_rank,
        coalesce(group_descriptions.is_good_group, false) as is_good_group
    from scored
    left join group_descriptions
        on scored.rfm_group = group_descriptions.rfm_group

)

select * from described
