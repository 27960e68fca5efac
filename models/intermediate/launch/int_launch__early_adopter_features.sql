{#- One row per reference launch and customer who had purchased before its
    cutoff: the business-rule early-adopter features, weighted score
    (seeds/launch/launch_early_adopter_weights.csv) and pool membership, using only
    data before the cutoff. -#}
{%- set adoption_days = var('launch_adoption_days') -%}
{%- set recent_launches = var('launch_recent_launches') -%}
{%- set new_season_end = dbt.dateadd('day', var('launch_new_season_days'), 'products.launch_date') -%}
with

reference_launches as (

    select * from {{ ref('int_launch__references') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

adoptions as (

    select * from {{ ref('int_launch__adoptions') }}

),

weights as (

    select * from {{ ref('launch_early_adopter_weights') }}

),

weight_row as (

    select
        coalesce(max(case when component = 'adoption_rate' then weight end), 0) as w_adoption_rate,
        coalesce(max(case when component = 'recent_adoption_share' then weight end), 0) as w_recent,
        coalesce(max(case when component = 'speed' then weight end), 0) as w_speed,
        coalesce(max(case when component = 'new_season_spend_share' then weight end), 0) as w_new_season,
        coalesce(max(case when component = 'full_price_share' then weight end), 0) as w_full_price,
        coalesce(max(case when component = 'recency' then weight end), 0) as w_recency
    from weights

),

all_launches as (

    select distinct
        collection_id,
        launch_date
    from products
    where
        collection_id is not null
        and launch_date is not null
        and is_merchandise
        and not is_upcoming_collection

),

population as (

    select
        reference_launches.collection_id as reference_collection_id,
        reference_launches.cutoff_date,
        customers.customer_id,
        cast(customers.first_order_at as date) as first_order_date
    from reference_launches
    inner join customers
        on cast(customers.first_order_at as date) < reference_launches.cutoff_date

),

launches_before as (

    select
        reference_launches.collection_id as reference_collection_id,
        reference_launches.cutoff_date,
        all_launches.collection_id,
        all_launches.launch_date,
        row_number() over (
            partition by reference_launches.collection_id
            order by all_launches.launch_date desc, all_launches.collection_id desc
        ) as launch_recency
    from reference_launches
    inner join all_launches
        on reference_launches.cutoff_date > all_launches.launch_date

),

first_order_dates as (

    select distinct
        reference_collection_id,
        first_order_date
    from population

),

eligible as (

    -- Launches whose adoption window was still open after a first purchase on that date:
    -- counted once per date, not once per client (a few thousand dates, millions of clients).
    select
        first_order_dates.reference_collection_id,
        first_order_dates.first_order_date,
        count(*) as eligible_launches,
        count(case when launches_before.launch_recency <= {{ recent_launches }} then 1 end)
            as recent_eligible_launches
    from first_order_dates
    inner join launches_before
        on
            first_order_dates.reference_collection_id = launches_before.reference_collection_id
            and launches_before.launch_date
            > cast({{ dbt.dateadd('day', -adoption_days, 'first_order_dates.first_order_date') }} as date)
    group by first_order_dates.reference_collection_id, first_order_dates.first_order_date

),

adopted as (

    -- An adoption before the cutoff is a purchase before it: its client is in the population.
    select
        launches_before.reference_collection_id,
        adoptions.customer_id,
        count(*) as launches_adopted,
        count(case when launches_before.launch_recency <= {{ recent_launches }} then 1 end)
            as recent_launches_adopted,
        avg(adoptions.days_to_adopt) as avg_days_to_adopt,
        {{ exact_sum('adoptions.adoption_amount') }} as adoption_amount,
        {{ exact_sum('adoptions.full_price_amount') }} as full_price_amount,
        max(adoptions.first_adoption_date) as last_adoption_date
    from adoptions
    inner join launches_before
        on
            adoptions.collection_id = launches_before.collection_id
            and adoptions.first_adoption_date < launches_before.cutoff_date
    group by launches_before.reference_collection_id, adoptions.customer_id

),

spend as (

    -- Per launch and client, straight from the lines before its cutoff (a purchase before the
    -- cutoff puts its client in the population), without joining the population itself.
    select
        reference_launches.collection_id as reference_collection_id,
        order_lines.customer_id,
        {{ exact_sum('order_lines.net_amount') }} as merchandise_spend,
        {{ exact_sum(
            "case when products.launch_date is not null"
            ~ " and order_lines.order_date >= products.launch_date"
            ~ " and order_lines.order_date < cast(" ~ new_season_end ~ " as date)"
            ~ " then order_lines.net_amount else 0 end"
        ) }} as new_season_spend
    from order_lines
    inner join reference_launches
        on order_lines.order_date < reference_launches.cutoff_date
    inner join products
        on order_lines.product_id = products.product_id
    where order_lines.is_merchandise_purchase
    group by reference_launches.collection_id, order_lines.customer_id

),

components as (

    select
        population.reference_collection_id,
        population.customer_id,
        population.cutoff_date,
        population.first_order_date,
        coalesce(eligible.eligible_launches, 0) as eligible_launches,
        coalesce(adopted.launches_adopted, 0) as launches_adopted,
        coalesce(eligible.recent_eligible_launches, 0) as recent_eligible_launches,
        coalesce(adopted.recent_launches_adopted, 0) as recent_launches_adopted,
        adopted.avg_days_to_adopt,
        adopted.last_adoption_date,
        {{ dbt.datediff('adopted.last_adoption_date', 'population.cutoff_date', 'day') }}
            as days_since_last_adoption,
        least(
            coalesce(adopted.launches_adopted, 0) * 1.0 / greatest(coalesce(eligible.eligible_launches, 0), 1), 1.0
        ) as adoption_rate,
        least(
            coalesce(adopted.recent_launches_adopted, 0) * 1.0
            / greatest(coalesce(eligible.recent_eligible_launches, 0), 1),
            1.0
        ) as recent_adoption_share,
        coalesce(greatest(1.0 - adopted.avg_days_to_adopt * 1.0 / {{ adoption_days }}, 0.0), 0.0) as speed,
        case
            when spend.merchandise_spend > 0
                then least(greatest(spend.new_season_spend / spend.merchandise_spend, 0.0), 1.0)
            else 0.0
        end as new_season_spend_share,
        case
            when adopted.adoption_amount > 0
                then least(greatest(adopted.full_price_amount / adopted.adoption_amount, 0.0), 1.0)
            else 0.0
        end as full_price_share,
        coalesce(
            exp(
                -{{ dbt.datediff('adopted.last_adoption_date', 'population.cutoff_date', 'day') }}
                / cast({{ var('launch_adoption_recency_days') }} as double)
            ),
            0.0
        ) as recency
    from population
    left join eligible
        on
            population.reference_collection_id = eligible.reference_collection_id
            and population.first_order_date = eligible.first_order_date
    left join adopted
        on
            population.reference_collection_id = adopted.reference_collection_id
            and population.customer_id = adopted.customer_id
    left join spend
        on
            population.reference_collection_id = spend.reference_collection_id
            and population.customer_id = spend.customer_id

),

scored as (

    select
        components.*,
        (
            weight_row.w_adoption_rate * components.adoption_rate
            + weight_row.w_recent * components.recent_adoption_share
            + weight_row.w_speed * components.speed
            + weight_row.w_new_season * components.new_season_spend_share
            + weight_row.w_full_price * components.full_price_share
            + weight_row.w_recency * components.recency
        )
        / nullif(
            weight_row.w_adoption_rate + weight_row.w_recent + weight_row.w_speed
            + weight_row.w_new_season + weight_row.w_full_price + weight_row.w_recency,
            0
        ) as early_adopter_score
    from components
    cross join weight_row

),

ranked as (

    select
        *,
        row_number() over (
            partition by reference_collection_id order by early_adopter_score desc, customer_id asc
        ) as early_adopter_rank,
        count(*) over (partition by reference_collection_id) as population_size
    from scored

),

pooled as (

    select
        *,
        early_adopter_score > 0
        and launches_adopted >= {{ var('launch_pool_min_launches') }}
        and early_adopter_rank <= {{ var('launch_pool_share') }} * population_size as in_pool
    from ranked

)

select * from pooled
