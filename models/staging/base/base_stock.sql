with

source as (

    select * from {{ raw_table('stock') }}

),

stores as (

    select store_id from {{ ref('base_stores') }}
    where reject_reason is null

),

products as (

    select product_id from {{ ref('base_products') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.store_id') }} as store_id,
        {{ clean_text('source.product_id') }} as product_id,
        source.quantity as quantity_on_hand,
        source.as_of as counted_on,
        stores.store_id is not null as is_known_store,
        products.product_id is not null as is_known_product,
        source.unreadable_reason,
        source.raw_values,
        source.raw_row_number
    from source
    left join stores
        on {{ clean_text('source.store_id') }} = stores.store_id
    left join products
        on {{ clean_text('source.product_id') }} = products.product_id

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("store_id is null or not is_known_store", "unknown or missing store_id"),
            ("product_id is null or not is_known_product", "unknown or missing product_id"),
            ("quantity_on_hand is null or quantity_on_hand < 0", "negative or missing quantity"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    -- Several counts of one store x product: the latest is the stock (the first in the
    -- file among counts of the same date).
    {{ duplicate_copies('rules_checked', ['store_id', 'product_id'], order_by='counted_on desc nulls last, raw_row_number') }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_known_store, is_known_product, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'older or duplicate stock count' end
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
