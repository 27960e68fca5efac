{#- The window probabilities and "later or never" of a client add up to 1. -#}
with

timing as (

    select * from {{ ref('second_purchase_timing') }}

),

totals as (

    select
        customer_id,
        p_window_0_30 + p_window_31_60 + p_window_61_90 + p_window_91_180
        + p_window_181_365 + p_later_or_never as total
    from timing

)

select *
from totals
where abs(total - 1) > 1e-6
