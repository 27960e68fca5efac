{#- Per order: lines, units, amounts and margin from the staged lines. -#}
with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

lines_with_cost as (

    select
        order_lines.order_id,
        order_lines.quantity,
        order_lines.net_amount,
        order_lines.discount,
        products.is_merchandise,
        order_lines.quantity * products.unit_cost as line_cost
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id

),

order_totals as (

    select
        order_id,
        count(*) as line_count,
        cast(sum(quantity) as bigint) as net_units,
        {{ exact_sum('case when is_merchandise then net_amount else 0 end') }} as merchandise_amount,
        {{ exact_sum('net_amount') }} as net_amount,
        {{ exact_sum('discount') }} as discount_amount,
        -- Null when any line has no known cost: a margin on part of a basket misleads.
        case when count(line_cost) = count(*) then {{ exact_sum('net_amount - line_cost') }} end
            as gross_margin
    from lines_with_cost
    group by order_id

)

select * from order_totals
