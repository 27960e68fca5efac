with

source as (

    select * from {{ raw_table('products') }}

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
        list_price,
        unit_cost,
        coalesce(is_merchandise, true) as is_merchandise,
        coalesce(is_discontinued, false) as is_discontinued,
        unreadable_reason,
        raw_values,
        raw_row_number
    from source

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("product_id is null", "missing product_id"),
            (not_finite('list_price'), "non-finite list_price"),
            ("list_price < 0", "negative list_price"),
            ("list_price > " ~ var('staging_max_unit_price'), "list_price above staging_max_unit_price"),
            (not_finite('unit_cost'), "non-finite unit_cost"),
            ("unit_cost < 0", "negative unit_cost"),
            ("unit_cost > " ~ var('staging_max_unit_price'), "unit_cost above staging_max_unit_price"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['product_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate product_id' end
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
