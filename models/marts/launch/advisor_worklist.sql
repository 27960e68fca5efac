{#- Per store and advisor: the clients to contact for the upcoming collection,
    best first, within the advisor's capacity (stores.advisor_capacity); only
    clients outside the control group who opted in to the channel (phone for
    an advisor call, else e-mail); each with three recommended new products in
    stock at the store (else in the country) and the reasons. No names or
    e-mail addresses. -#}
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
        audience.audience_band,
        audience.top_reasons,
        customers.home_store_id as store_id,
        customers.advisor_id,
        stores.country as store_country,
        stores.advisor_capacity,
        case when customers.phone_opt_in then 'phone' when customers.email_opt_in then 'email' end
            as contact_channel
    from audience
    inner join customers
        on audience.customer_id = customers.customer_id
    inner join stores
        on customers.home_store_id = stores.store_id
    where
        not audience.is_control
        and customers.advisor_id is not null
        and (customers.phone_opt_in or customers.email_opt_in)

),

within_capacity as (

    select *
    from (
        select
            *,
            row_number() over (partition by store_id, advisor_id order by priority_score desc, customer_id asc)
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
