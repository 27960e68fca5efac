{#- Every client's predicted chance of buying a launch after an advisor-led contact (a call,
    an invitation to the boutique) and after an e-mail, the store gain between the two and
    its percentile, with the consents that decide who may be invited. -#}
with

scores as (

    select * from {{ ref('int_clienteling__store_sensitivity') }}

),

features as (

    select * from {{ ref('int_clienteling__store_features') }}
    where reference_id = 'current'

),

joined as (

    select
        scores.customer_id,
        features.country,
        features.home_store_id,
        features.advisor_id,
        features.phone_opt_in,
        features.email_opt_in,
        scores.p_buy_after_advisor,
        scores.p_buy_after_email,
        scores.store_gain,
        percent_rank() over (order by scores.store_gain, scores.customer_id)
            as store_gain_percentile,
        scores.store_sensitivity,
        scores.main_reason,
        features.store_share,
        features.purchases,
        {{ as_of_date() }} as as_of_date
    from scores
    inner join features
        on scores.customer_id = features.customer_id

)

select * from joined
