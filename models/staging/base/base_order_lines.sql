with

source as (

    select * from {{ source('raw', 'order_lines') }}

),

orders as (

    select order_id from {{ ref('base_orders') }}
    where reject_reason is null

),

products as (

    select
        product_id,
        is_merchandise
    from {{ ref('base_products') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.order_id') }} as order_id,
        cast(source.line_number as integer) as line_number,
        {{ clean_text('source.product_id') }} as product_id,
        cast(source.quantity as integer) as quantity,
        cast(source.unit_price as double) as unit_price,
        coalesce(cast(source.discount as double), 0) as discount,
        orders.order_id is not null as is_staged_order,
        products.product_id is not null as is_known_product,
        coalesce(products.is_merchandise, true) as is_merchandise,
        {{ row_to_json('source') }} as raw_record
    from source
    left join orders
        on {{ clean_text('source.order_id') }} = orders.order_id
    left join products
        on {{ clean_text('source.product_id') }} = products.product_id

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("order_id is null", "missing order_id"),
            ("not is_staged_order", "order missing or quarantined"),
            ("product_id is null", "missing product_id"),
            ("not is_known_product", "unknown product_id"),
            ("line_number is null", "missing line_number"),
            ("quantity is null or quantity = 0", "zero or missing quantity"),
            ("abs(quantity) > " ~ var('max_line_quantity'), "impossible quantity"),
            ("unit_price is null", "missing unit_price"),
            ("unit_price < 0", "negative unit_price"),
            ("unit_price = 0 and is_merchandise", "zero unit_price"),
            ("discount < 0 or discount > abs(quantity) * unit_price", "impossible discount"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure, is_staged_order, is_known_product, is_merchandise),
        {{ reason_with_duplicates(['order_id', 'line_number'], 'duplicate order line') }}
            as reject_reason
    from rules_checked

)

select * from validated
