with

validated as (

    select * from {{ ref('base_stores') }}

),

staged as (

    select * exclude (reject_reason, raw_record, raw_row_number)
    from validated
    where reject_reason is null

)

select * from staged
