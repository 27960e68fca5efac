{#- The two moments recommendations are computed for: 'backtest' (train on what was
    known before the cut-off, evaluate on purchases from it to as_of) and 'current'
    (everything known on as_of, for the lists sent to clients). -#}
with

as_of as (

    select * from {{ ref('int_as_of') }}

),

horizons as (

    select
        'backtest' as horizon,
        cast({{ dbt.dateadd('day', -var('recommendations_holdout_days'), 'as_of_date') }} as date)
            as known_before,
        as_of_date
    from as_of

    union all

    select
        'current' as horizon,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as date) as known_before,
        as_of_date
    from as_of

)

select * from horizons
