{#- The moments recommendations are computed for. Backtest horizons train on what was
    known before their cut-off and are evaluated on the purchases of the following
    recommendations_holdout_days: 'backtest' (cut-off as_of minus the holdout, the primary
    figures) and recommendations_backtest_cutoffs - 1 earlier ones, each
    recommendations_backtest_step_days before the previous ('backtest_minus_30d', ...),
    whose holdout ends that many days before as_of. 'current': everything known on as_of,
    for the lists sent to clients. -#}
{%- set holdout_days = var('recommendations_holdout_days') -%}
{%- set step_days = var('recommendations_backtest_step_days') -%}
with

as_of as (

    select * from {{ ref('int_as_of') }}

),

horizons as (

    {%- for order in range(var('recommendations_backtest_cutoffs')) %}
        {%- set shift = order * step_days %}

        select
            '{{ "backtest" if order == 0 else "backtest_minus_" ~ shift ~ "d" }}' as horizon,
            cast({{ dbt.dateadd('day', -(holdout_days + shift), 'as_of_date') }} as date)
                as known_before,
            cast({{ dbt.dateadd('day', -shift, 'as_of_date') }} as date) as as_of_date,
            true as is_backtest,
            {{ order }} as backtest_order
        from as_of

        union all
    {%- endfor %}

    select
        'current' as horizon,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as date) as known_before,
        as_of_date,
        false as is_backtest,
        cast(null as integer) as backtest_order
    from as_of

)

select * from horizons
