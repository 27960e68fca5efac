with

source as (

    select * from {{ raw_table('order_lines') }}

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
        source.line_number,
        {{ clean_text('source.product_id') }} as product_id,
        source.quantity,
        source.unit_price,
        coalesce(source.discount, 0) as discount,
        orders.order_id is not null as is_staged_order,
        products.product_id is not null as is_known_product,
        coalesce(products.is_merchandise, true) as is_merchandise,
        source.unreadable_reason,
        source.raw_values,
        source.raw_row_number
    from source
    left join orders
        on {{ clean_text('source.order_id') }} = orders.order_id
    left join products
        on {{ clean_text('source.product_id') }} = products.product_id

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("order_id is null", "missing order_id"),
            ("not is_staged_order", "order missing or quarantined"),
            ("product_id is null", "missing product_id"),
            ("not is_known_product", "unknown product_id"),
            ("line_number is null", "missing line_number"),
            ("quantity is null or quantity = 0", "zero or missing quantity"),
            ("abs(quantity) > " ~ var('max_line_quantity'), "impossible quantity"),
            ("unit_price is null", "missing unit_price"),
            (not_finite('unit_price'), "non-finite unit_price"),
            ("unit_price < 0", "negative unit_price"),
            ("unit_price = 0 and is_merchandise", "zero unit_price"),
            ("unit_price > " ~ var('staging_max_unit_price'), "unit_price above staging_max_unit_price"),
            (not_finite('discount'), "non-finite discount"),
            ("discount < 0 or discount > abs(quantity) * unit_price", "impossible discount"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['order_id', 'line_number']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_staged_order, is_known_product, is_merchandise, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate order line' end
        ) as reject_reason
    from rules_checked
    left join duplicates
        on rules_checked.raw_row_number = duplicates.raw_row_number

),

recorded as (

    select
        * exclude (raw_values),
        {{ raw_record_when_rejected() }} as raw_record
    from validated

)

select * from recorded
