{#- The launches every launch model is computed for, one row each: the past
    collection launches (the backtest: features as known the day before the
    launch, outcome in the launch window) and the upcoming collection (features
    as known at as_of). Empty on a dataset without collections. -#}
with

products as (

    select * from {{ ref('dim_products') }}

),

collection_launches as (

    select
        collection_id,
        max(collection_name) as collection_name,
        max(launch_date) as launch_date,
        bool_or(is_upcoming_collection) as is_upcoming,
        count(*) as product_count
    from products
    where collection_id is not null and launch_date is not null and is_merchandise
    group by collection_id

),

upcoming as (

    -- The next collection to launch after as_of; later ones wait for their turn.
    select *
    from collection_launches
    where is_upcoming
    order by launch_date, collection_id
    limit 1

),

past_ranked as (

    select
        *,
        row_number() over (order by launch_date desc, collection_id desc) as recency_rank
    from collection_launches
    where not is_upcoming

),

past as (

    select * exclude (recency_rank)
    from past_ranked
    where recency_rank <= {{ var('launch_backtest_launches') }}

),

references_unioned as (

    select
        collection_id,
        collection_name,
        launch_date,
        is_upcoming,
        product_count,
        -- Features use data strictly before the cutoff.
        launch_date as cutoff_date
    from past

    union all

    select
        collection_id,
        collection_name,
        launch_date,
        is_upcoming,
        product_count,
        cast({{ dbt.dateadd('day', 1, as_of_date()) }} as date) as cutoff_date
    from upcoming

)

select * from references_unioned
