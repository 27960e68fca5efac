{#- Percent rank of each recency, net spend and repeat-buyer order count among
    the buyers of each snapshot date, one row per distinct value:
    percent_rank = buyers ranked strictly below / (buyers - 1), so ties share
    it. int_segmentation__customer_scores looks customers up here: ranking the
    14M customer-months of a 1M customer brand row by row in windows costs
    several times more, and distinct values are few (days, prices, counts).
    ranked_value is what is ranked ascending: recency is negated so that the
    most recent buyers rank highest. -#}
with

snapshots as (

    select * from {{ ref('int_segmentation__customer_snapshots') }}

),

ranked_values as (

    select
        snapshot_date,
        'recency' as measure,
        -cast(recency_days as double) as ranked_value
    from snapshots
    where is_buyer

    union all

    select
        snapshot_date,
        'monetary' as measure,
        monetary as ranked_value
    from snapshots
    where is_buyer

    union all

    -- one-order buyers all get F = 1: only repeat buyers are ranked on frequency
    select
        snapshot_date,
        'repeat_frequency' as measure,
        cast(frequency as double) as ranked_value
    from snapshots
    where is_buyer and frequency >= 2

),

value_counts as (

    select
        snapshot_date,
        measure,
        ranked_value,
        count(*) as buyers
    from ranked_values
    group by snapshot_date, measure, ranked_value

),

percentiles as (

    select
        snapshot_date,
        measure,
        ranked_value,
        buyers,
        coalesce(
            (sum(buyers) over (partition by snapshot_date, measure order by ranked_value) - buyers)
            / nullif(sum(buyers) over (partition by snapshot_date, measure) - 1, 0),
            0
        ) as percentile
    from value_counts

)

select * from percentiles
