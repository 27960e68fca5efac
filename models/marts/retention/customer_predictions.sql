{#- Public: the predictive fields marketers know from their e-mail tools, for
    every client with a purchase at as_of. Typed and contracted on top of the
    Python model. -#}
with

scores as (

    select * from {{ ref('int_retention__customer_scores') }}

),

typed as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(market as varchar) as market,
        cast(purchase_days as integer) as purchase_days,
        cast(frequency as integer) as frequency,
        cast(recency_days as integer) as recency_days,
        cast(tenure_days as integer) as tenure_days,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(p_alive as double) as p_alive,
        cast(p_order_90d as double) as p_order_90d,
        cast(expected_orders_90d as double) as expected_orders_90d,
        cast(p_order_365d as double) as p_order_365d,
        cast(expected_orders_365d as double) as expected_orders_365d,
        cast(expected_next_order_date as date) as expected_next_order_date,
        cast(next_order_outlook as varchar) as next_order_outlook,
        cast(churn_probability as double) as churn_probability,
        cast(expected_order_value as double) as expected_order_value,
        cast(predicted_value_365d as double) as predicted_value_365d,
        cast(bgnbd_p_alive as double) as bgnbd_p_alive,
        cast(bgnbd_p_order_90d as double) as bgnbd_p_order_90d,
        cast(mbgnbd_p_order_90d as double) as mbgnbd_p_order_90d,
        cast(supervised_p_order_90d as double) as supervised_p_order_90d,
        cast(selected_model as varchar) as selected_model,
        cast(lifetime_model as varchar) as lifetime_model,
        cast(as_of_date as date) as as_of_date
    from scores

),

banded as (

    select
        customer_id,
        market,
        purchase_days,
        frequency,
        recency_days,
        tenure_days,
        days_since_last_order,
        p_alive,
        p_order_90d,
        expected_orders_90d,
        p_order_365d,
        expected_orders_365d,
        expected_next_order_date,
        next_order_outlook,
        churn_probability,
        -- Klaviyo's bands (low < 33 %, high > 66 % by default; calibration of churn per
        -- band: the churn_* rows of retention_evaluation).
        case
            when churn_probability < {{ var('retention_churn_low_below') }} then 'low'
            when churn_probability > {{ var('retention_churn_high_above') }} then 'high'
            else 'medium'
        end as churn_band,
        expected_order_value,
        predicted_value_365d,
        bgnbd_p_alive,
        bgnbd_p_order_90d,
        mbgnbd_p_order_90d,
        supervised_p_order_90d,
        selected_model,
        lifetime_model,
        as_of_date
    from typed

)

select * from banded
