{#- For every client who consented to marketing e-mail: the best block of the week to send
    them an e-mail, the open rate expected there, at the market's best block and at a
    random time, and whether the recommendation rests on the client's own history or on
    the market's pattern. -#}
with

send_times as (

    select * from {{ ref('int_clienteling__send_times') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

opted_in as (

    select
        send_times.*,
        customers.email_opt_in
    from send_times
    inner join customers
        on send_times.customer_id = customers.customer_id
    where customers.email_opt_in

),

recommendations as (

    select
        customer_id,
        country,
        email_opt_in,
        best_send_label as best_send_block,
        best_send_weekday,
        best_send_hour_start,
        expected_open_rate,
        market_best_label as market_best_block,
        market_best_open_rate,
        expected_open_rate - market_best_open_rate as open_rate_gain_vs_market,
        average_open_rate,
        case
            when own_history_weight >= 0.5 then 'own history'
            else 'market pattern'
        end as recommendation_basis,
        own_history_weight,
        reading_events,
        sends_seen,
        opens_seen,
        {{ as_of_date() }} as as_of_date
    from opted_in

)

select * from recommendations
