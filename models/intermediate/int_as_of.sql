{#- One row: the as-of date of this run. Read by SQL through as_of_date()
    and by Python models directly. -#}
with

orders as (

    select * from {{ ref('stg_orders') }}

),

last_order as (

    select max(cast(ordered_at as date)) as last_order_date
    from orders

),

as_of as (

    select
        {% if var('as_of') -%}
            cast('{{ var("as_of") }}' as date)
        {%- else -%}
            last_order_date
        {%- endif %} as as_of_date,
        last_order_date
    from last_order

)

select * from as_of
