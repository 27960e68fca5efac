{#- One row: the as-of date of this run. Read by SQL through as_of_date()
    and by Python models directly. A date nothing can be computed as of stops the run
    here with one line, before any model downstream fails on its consequences. -#}
with

orders as (

    select * from {{ ref('stg_orders') }}

),

order_dates as (

    select
        min(cast(ordered_at as date)) as first_order_date,
        max(cast(ordered_at as date)) as last_order_date
    from orders

),

as_of as (

    select
        {% if var('as_of') -%}
            try_cast('{{ var("as_of") }}' as date)
        {%- else -%}
            last_order_date
        {%- endif %} as as_of_date,
        first_order_date,
        last_order_date
    from order_dates

),

checked as (

    select
        case
            when last_order_date is null
                then error(
                        'no staged orders: orders.parquet is empty or every order is in quarantine '
                        || '(see the quarantine table); nothing to compute as of'
                    )
            when as_of_date is null
                then error('as_of {{ var("as_of") }} is not a date (YYYY-MM-DD)')
            when as_of_date < first_order_date
                then error(
                        'as_of ' || cast(as_of_date as varchar) || ' is before the first staged order ('
                        || cast(first_order_date as varchar) || '): nothing to compute as of'
                    )
            when as_of_date > cast({{ run_started_timestamp() }} as date)
                then error(
                        'as_of ' || cast(as_of_date as varchar) || ' is after the day of the run ('
                        || cast(cast({{ run_started_timestamp() }} as date) as varchar) || ')'
                    )
            else as_of_date
        end as as_of_date,
        first_order_date,
        last_order_date
    from as_of

)

select * from checked
