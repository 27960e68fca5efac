{#- Per store and advisor: the clients to contact for the upcoming collection,
    best first, within the advisor's capacity (stores.advisor_capacity); only
    clients who meet the contact target (launch_audience.meets_target: at or
    above launch_min_priority, or with a positive uplift when targeting by
    uplift), so that capacity is left unused rather than filled with weak
    contacts; outside the control group and opted in to the channel (phone for
    an advisor call, else e-mail); contacts whose priority band converted below
    the base rate on past launches are marked weak; each with three recommended
    new products in stock at the store (else in the country) and the reasons.
    No names or e-mail addresses. -#}
with

audience as (

    select * from {{ ref('launch_audience') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

availability as (

    select * from {{ ref('int_stock_availability') }}

),

appetence as (

    select * from {{ ref('product_appetence') }}

),

reachable as (

    select
        audience.customer_id,
        audience.collection_id,
        audience.priority_score,
        audience.priority_rank,
        audience.target_rank,
        audience.expected_conversion,
        audience.is_weak_contact,
        audience.uplift_score,
        audience.uplift_segment,
        audience.audience_band,
        audience.top_reasons,
        customers.home_store_id as store_id,
        customers.advisor_id,
        stores.country as store_country,
        stores.advisor_capacity,
        case when audience.phone_opt_in then 'phone' when audience.email_opt_in then 'email' end
            as contact_channel
    from audience
    inner join customers
        on audience.customer_id = customers.customer_id
    inner join stores
        on customers.home_store_id = stores.store_id
    where
        audience.meets_target
        and not audience.is_control
        and customers.advisor_id is not null
        and audience.is_contactable

),

within_capacity as (

    select *
    from (
        select
            *,
            row_number() over (partition by store_id, advisor_id order by target_rank asc)
                as advisor_rank
        from reachable
    ) as ranked_by_advisor
    where advisor_rank <= coalesce(advisor_capacity, {{ var('launch_default_advisor_capacity') }})

),

store_stock as (

    select
        scope_id as store_id,
        product_id
    from availability
    where scope_type = 'store' and units_on_hand > 0

),

country_stock as (

    select
        scope_id as country,
        product_id
    from availability
    where scope_type = 'country' and units_on_hand > 0

),

candidates as (

    select
        within_capacity.customer_id,
        appetence.product_id,
        appetence.product_name,
        appetence.appetence_rank,
        case when store_stock.product_id is not null then 'in store' else 'in country' end as availability
    from within_capacity
    inner join appetence
        on within_capacity.customer_id = appetence.customer_id
    left join store_stock
        on
            within_capacity.store_id = store_stock.store_id
            and appetence.product_id = store_stock.product_id
    left join country_stock
        on
            within_capacity.store_country = country_stock.country
            and appetence.product_id = country_stock.product_id
    where store_stock.product_id is not null or country_stock.product_id is not null

),

picked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by case when availability = 'in store' then 0 else 1 end, appetence_rank, product_id
        ) as pick
    from candidates

),

products_per_client as (

    select
        customer_id,
        max(case when pick = 1 then product_id end) as product_1_id,
        max(case when pick = 1 then product_name || ' (' || availability || ')' end) as product_1,
        max(case when pick = 2 then product_id end) as product_2_id,
        max(case when pick = 2 then product_name || ' (' || availability || ')' end) as product_2,
        max(case when pick = 3 then product_id end) as product_3_id,
        max(case when pick = 3 then product_name || ' (' || availability || ')' end) as product_3
    from picked
    where pick <= 3
    group by customer_id

),

worklist as (

    select
        cast(within_capacity.store_id as varchar) as store_id,
        cast(within_capacity.advisor_id as varchar) as advisor_id,
        cast(within_capacity.advisor_rank as bigint) as advisor_rank,
        cast(within_capacity.customer_id as varchar) as customer_id,
        cast(within_capacity.collection_id as varchar) as collection_id,
        cast(within_capacity.contact_channel as varchar) as contact_channel,
        cast(within_capacity.priority_score as double) as priority_score,
        cast(within_capacity.priority_rank as bigint) as priority_rank,
        cast(within_capacity.expected_conversion as double) as expected_conversion,
        cast(within_capacity.is_weak_contact as boolean) as is_weak_contact,
        cast(within_capacity.uplift_score as double) as uplift_score,
        cast(within_capacity.uplift_segment as varchar) as uplift_segment,
        cast(within_capacity.audience_band as varchar) as audience_band,
        cast(products_per_client.product_1_id as varchar) as product_1_id,
        cast(products_per_client.product_1 as varchar) as product_1,
        cast(products_per_client.product_2_id as varchar) as product_2_id,
        cast(products_per_client.product_2 as varchar) as product_2,
        cast(products_per_client.product_3_id as varchar) as product_3_id,
        cast(products_per_client.product_3 as varchar) as product_3,
        cast(within_capacity.top_reasons as varchar) as reasons
    from within_capacity
    left join products_per_client
        on within_capacity.customer_id = products_per_client.customer_id

)

select * from worklist
