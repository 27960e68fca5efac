with

validated as (

    select * from {{ ref('base_order_lines') }}

),

staged as (

    select
        * exclude (reject_reason, raw_record, raw_row_number),

        quantity < 0 as is_return_line,
        -- A return refunds the price net of the original discount: sign follows quantity.
        sign(quantity) * (abs(quantity) * unit_price - discount) as net_amount
    from validated
    where reject_reason is null

)

select * from staged
