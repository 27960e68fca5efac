{#- Backtest figures of the retention models next to their baselines, with
    model_evaluation's columns and types. -#}
with

backtest as (

    select * from {{ ref('int_retention__backtest') }}

),

typed as (

    select
        {{ evaluation_columns() }}
    from backtest

)

select * from typed
