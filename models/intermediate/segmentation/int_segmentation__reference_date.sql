{#- The reference month end that segment stability compares later months to:
    var('segmentation_reference_date') when set. Otherwise, among month ends
    with at least var('segmentation_min_reference_buyers') (100) buyers and at
    least var('segmentation_min_history_months') (6) months of order history
    before them (so that the reference segments are not those of a shop that
    just opened), the last one var('segmentation_stability_months') (12)
    months before the last month end; when the history is shorter, the first
    such month end (the longest horizon available); failing that, the first
    month end with enough buyers. -#}
with

snapshots as (

    select * from {{ ref('int_segmentation__customer_snapshots') }}

),

month_buyers as (

    select
        snapshot_date,
        sum(case when is_buyer then 1 else 0 end) as n_buyers,
        min(first_purchase_date) as first_purchase_date
    from snapshots
    where is_month_end
    group by snapshot_date

),

history_bounds as (

    select
        max(snapshot_date) as last_month_end,
        min(first_purchase_date) as first_purchase_date
    from month_buyers

),

eligible as (

    select
        month_buyers.snapshot_date,
        month_buyers.snapshot_date >= cast({{ dbt.dateadd(
            'month', (var('segmentation_min_history_months') | int), 'history_bounds.first_purchase_date') }} as date)
            as has_history,
        month_buyers.snapshot_date <= cast({{ dbt.dateadd(
            'month', - (var('segmentation_stability_months') | int), 'history_bounds.last_month_end') }} as date)
            as has_horizon
    from month_buyers
    cross join history_bounds
    where month_buyers.n_buyers >= {{ var('segmentation_min_reference_buyers') }}
        and month_buyers.snapshot_date < history_bounds.last_month_end

),

candidates as (

    select
        max(case when has_history and has_horizon then snapshot_date end) as reference_with_horizon,
        min(case when has_history then snapshot_date end) as first_with_history,
        min(snapshot_date) as first_eligible
    from eligible

),

chosen as (

    select
        {% if var('segmentation_reference_date') -%}
            cast('{{ var("segmentation_reference_date") }}' as date)
        {%- else -%}
            coalesce(
                candidates.reference_with_horizon, candidates.first_with_history, candidates.first_eligible
            )
        {%- endif %} as reference_date,
        history_bounds.last_month_end,
        {% if var('segmentation_reference_date') -%}
            'var segmentation_reference_date'
        {%- else -%}
            case
                when candidates.reference_with_horizon is not null
                    then '{{ var("segmentation_stability_months") }} months before the last month end'
                when candidates.first_with_history is not null
                    then 'history shorter than the horizon: first month end with '
                        || '{{ var("segmentation_min_history_months") }} months of history'
                else 'short history: first month end with enough buyers'
            end
        {%- endif %} as reference_reason
    from candidates
    cross join history_bounds

)

select * from chosen
