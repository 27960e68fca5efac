{#- Per method: how long after the reference date the segmentation still
    agrees with a fresh one (ARI >= var('segmentation_ari_threshold'), 0.8),
    and the refresh interval recommended from it. days_to_threshold
    interpolates linearly between the last month end above the threshold and
    the first one below it (ARI = 1 at the reference date); the recommended
    interval is the longest cadence of the seed segmentation_refresh_cadences
    not beyond it. When ARI never falls below the threshold in the observed
    history, the recommendation is the longest cadence within the observed
    horizon (a lower bound, said in notes). -#}
{%- set threshold = var('segmentation_ari_threshold') -%}
with

stability as (

    select * from {{ ref('segment_stability') }}

),

cadences as (

    select * from {{ ref('segmentation_refresh_cadences') }}

),

ordered as (

    select
        *,
        lag(horizon_days) over (partition by method order by horizon_days) as previous_days,
        lag(ari) over (partition by method order by horizon_days) as previous_ari
    from stability

),

first_below as (

    select
        method,
        min(horizon_days) as first_below_days
    from ordered
    where ari < {{ threshold }}
    group by method

),

summary as (

    select
        ordered.method,
        min(ordered.reference_date) as reference_date,
        max(ordered.compared_date) as last_compared_date,
        max(ordered.horizon_months) as months_observed,
        max(ordered.horizon_days) as days_observed,
        max(case when ordered.horizon_days = 0 then ordered.n_customers end) as n_customers_reference,
        max(case when ordered.horizon_months = 1 then ordered.ari end) as ari_1_month,
        max(case when ordered.horizon_months = 3 then ordered.ari end) as ari_3_months,
        max(case when ordered.horizon_months = 6 then ordered.ari end) as ari_6_months,
        max(case when ordered.horizon_months = 12 then ordered.ari end) as ari_12_months,
        min(ordered.ari) as min_ari,
        max(case when ordered.horizon_days = first_below.first_below_days then ordered.horizon_months end)
            as first_month_below_threshold,
        max(
            case
                when ordered.horizon_days = first_below.first_below_days
                    then coalesce(ordered.previous_days, 0)
                        + (coalesce(ordered.previous_ari, 1.0) - {{ threshold }})
                        * (ordered.horizon_days - coalesce(ordered.previous_days, 0))
                        / nullif(coalesce(ordered.previous_ari, 1.0) - ordered.ari, 0)
            end
        ) as days_to_threshold
    from ordered
    left join first_below
        on ordered.method = first_below.method
    group by ordered.method

),

recommended as (

    select
        summary.*,
        coalesce(summary.days_to_threshold, summary.days_observed) as usable_days
    from summary

),

with_cadence as (

    select
        recommended.method,
        cast({{ threshold }} as double) as ari_threshold,
        recommended.reference_date,
        recommended.last_compared_date,
        cast(recommended.months_observed as integer) as months_observed,
        cast(recommended.n_customers_reference as bigint) as n_customers_reference,
        recommended.ari_1_month,
        recommended.ari_3_months,
        recommended.ari_6_months,
        recommended.ari_12_months,
        recommended.min_ari,
        cast(recommended.first_month_below_threshold as integer) as first_month_below_threshold,
        round(recommended.days_to_threshold, 1) as days_to_threshold,
        cast(coalesce(max(cadences.cadence_days), 1) as integer) as recommended_refresh_days,
        coalesce(arg_max(cadences.cadence_name, cadences.cadence_days), 'daily') as recommended_cadence,
        case
            when recommended.days_to_threshold is null
                then 'ARI stayed at or above the threshold over the '
                    || cast(recommended.months_observed as varchar)
                    || ' observed months: the interval is a lower bound'
            else 'ARI falls below the threshold after about '
                || cast(cast(round(recommended.days_to_threshold) as integer) as varchar)
                || ' days (linear interpolation between month ends)'
        end as notes
    from recommended
    left join cadences
        on recommended.usable_days >= cadences.cadence_days
    group by all

)

select * from with_cadence
