{#- The launch campaign's contact list, ready to import into an e-mail or CRM
    tool (clientele export writes it per campaign as CSV and Parquet): one row
    per client of launch_audience who meets the contact target, is outside the
    control group and opted in to the channel (e-mail when the client accepts
    it, else phone); with the send window (the client's best block of the
    week to e-mail, send_time_recommendations), the three new products the
    client should like most, by name, and the reasons. Ids only: no names or
    e-mail addresses. -#}
with

audience as (

    select * from {{ ref('launch_audience') }}

),

send_times as (

    select * from {{ ref('send_time_recommendations') }}

),

appetence as (

    select * from {{ ref('product_appetence') }}

),

worklist as (

    select * from {{ ref('advisor_worklist') }}

),

contactable as (

    select *
    from audience
    where meets_target and not is_control and is_contactable

),

products_per_client as (

    select
        customer_id,
        max(case when appetence_rank = 1 then product_id end) as product_1_id,
        max(case when appetence_rank = 1 then product_name end) as product_1_name,
        max(case when appetence_rank = 2 then product_id end) as product_2_id,
        max(case when appetence_rank = 2 then product_name end) as product_2_name,
        max(case when appetence_rank = 3 then product_id end) as product_3_id,
        max(case when appetence_rank = 3 then product_name end) as product_3_name
    from appetence
    where appetence_rank <= 3
    group by customer_id

),

activation as (

    select
        cast(contactable.campaign_id as varchar) as campaign_id,
        cast(contactable.collection_id as varchar) as collection_id,
        cast(contactable.customer_id as varchar) as customer_id,
        cast(case when contactable.email_opt_in then 'email' else 'phone' end as varchar) as channel,
        cast(case when contactable.email_opt_in then send_times.best_send_block end as varchar)
            as send_window,
        cast(case when contactable.email_opt_in then send_times.best_send_weekday end as varchar)
            as send_weekday,
        cast(case when contactable.email_opt_in then send_times.best_send_hour_start end as integer)
            as send_hour_start,
        cast(products_per_client.product_1_id as varchar) as product_1_id,
        cast(products_per_client.product_1_name as varchar) as product_1_name,
        cast(products_per_client.product_2_id as varchar) as product_2_id,
        cast(products_per_client.product_2_name as varchar) as product_2_name,
        cast(products_per_client.product_3_id as varchar) as product_3_id,
        cast(products_per_client.product_3_name as varchar) as product_3_name,
        cast(contactable.priority_score as double) as priority_score,
        cast(contactable.expected_conversion as double) as expected_conversion,
        cast(contactable.is_weak_contact as boolean) as is_weak_contact,
        cast(contactable.uplift_segment as varchar) as uplift_segment,
        cast(worklist.advisor_id as varchar) as advisor_id,
        cast(contactable.target_rank as bigint) as target_rank,
        cast(contactable.top_reasons as varchar) as reason
    from contactable
    left join send_times
        on contactable.customer_id = send_times.customer_id
    left join products_per_client
        on contactable.customer_id = products_per_client.customer_id
    left join worklist
        on contactable.customer_id = worklist.customer_id

)

select * from activation
