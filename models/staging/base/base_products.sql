with

source as (

    select * from {{ source('raw', 'products') }}

),

typed as (

    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text("name") }} as product_name,  -- noqa: RF04
        coalesce(lower({{ clean_text('category') }}), 'unknown') as category,
        coalesce(lower({{ clean_text('family') }}), 'unknown') as family,  -- noqa: RF04
        lower({{ clean_text('subfamily') }}) as subfamily,
        {{ clean_text('collection_id') }} as collection_id,
        lower({{ clean_text('color') }}) as color,
        lower({{ clean_text('material') }}) as material,
        lower({{ clean_text('gender_line') }}) as gender_line,
        cast(list_price as double) as list_price,
        cast(unit_cost as double) as unit_cost,
        coalesce(is_merchandise, true) as is_merchandise,
        coalesce(is_discontinued, false) as is_discontinued,
        {{ row_to_json('source') }} as raw_record
    from source

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("product_id is null", "missing product_id"),
            ("list_price < 0", "negative list_price"),
            ("unit_cost < 0", "negative unit_cost"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure),
        {{ reason_with_duplicates(['product_id'], 'duplicate product_id') }} as reject_reason
    from rules_checked

)

select * from validated
