{#- Public: for each client with exactly one purchase at as_of, the contact
    score (P(second purchase in the next 90 days), what lists sort by), the
    contact decision, the best window worth contacting (null when none is) and
    the probability of a second purchase in each window since the first order.
    Typed and contracted on top of the Python model. -#}
with

scores as (

    select * from {{ ref('int_retention__second_purchase_scores') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

typed as (

    select
        cast(scores.customer_id as varchar) as customer_id,
        cast(scores.market as varchar) as market,
        cast(scores.first_order_date as date) as first_order_date,
        cast(scores.days_since_first_order as integer) as days_since_first_order,
        cast(scores.contact_score as double) as contact_score,
        cast(scores.contact_decision as varchar) as contact_decision,
        cast(scores.best_window as varchar) as best_window,
        cast(scores.best_window_start_date as date) as best_window_start_date,
        cast(scores.best_window_end_date as date) as best_window_end_date,
        cast(scores.best_window_probability as double) as best_window_probability,
        cast(scores.windows_worth_contacting as integer) as windows_worth_contacting,
        cast(scores.p_window_0_30 as double) as p_window_0_30,
        cast(scores.p_window_31_60 as double) as p_window_31_60,
        cast(scores.p_window_61_90 as double) as p_window_61_90,
        cast(scores.p_window_91_180 as double) as p_window_91_180,
        cast(scores.p_window_181_365 as double) as p_window_181_365,
        cast(scores.p_later_or_never as double) as p_later_or_never,
        cast(scores.p_second_within_365d as double) as p_second_within_365d,
        cast(scores.p_second_next_90d as double) as p_second_next_90d,
        cast(scores.p_second_next_365d as double) as p_second_next_365d,
        coalesce(customers.email_opt_in, false) as email_opt_in,
        coalesce(customers.phone_opt_in, false) as phone_opt_in,
        cast(scores.model_name as varchar) as model_name,
        cast(scores.notes as varchar) as notes,
        cast(scores.as_of_date as date) as as_of_date
    from scores
    left join customers
        on scores.customer_id = customers.customer_id

),

ranked as (

    select
        *,
        -- The order contact lists follow: highest contact score first, ties by client.
        row_number() over (
            order by contact_score desc, customer_id asc
        ) as contact_rank
    from typed

)

select * from ranked
