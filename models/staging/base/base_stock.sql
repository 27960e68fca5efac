with

source as (

    select * from {{ source('raw', 'stock') }}

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
        cast(source.quantity as integer) as quantity_on_hand,
        cast(source.as_of as date) as counted_on,
        stores.store_id is not null as is_known_store,
        products.product_id is not null as is_known_product,
        {{ row_to_json('source') }} as raw_record
    from source
    left join stores
        on {{ clean_text('source.store_id') }} = stores.store_id
    left join products
        on {{ clean_text('source.product_id') }} = products.product_id

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("store_id is null or not is_known_store", "unknown or missing store_id"),
            ("product_id is null or not is_known_product", "unknown or missing product_id"),
            ("quantity_on_hand is null or quantity_on_hand < 0", "negative or missing quantity"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure, is_known_store, is_known_product),
        -- Several counts of one store x product: the latest is the stock.
        coalesce(
            rule_failure,
            case
                when row_number() over (
                        partition by store_id, product_id, rule_failure is null
                        order by counted_on desc, raw_record asc
                    ) > 1 then 'older or duplicate stock count'
            end
        ) as reject_reason
    from rules_checked

)

select * from validated
