{#- One row per reference launch and customer of int_launch__early_adopter_features:
    the lookalike model's features, deliberately disjoint from the rule
    features (no launch timing, no new-season share): profile, market,
    channel, purchase rhythm, e-mail and web engagement and tenure, all as
    known before the cutoff. Category and price-band mixes are in
    int_launch__customer_mix. -#}
with

population as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

email_events as (

    select * from {{ ref('fct_email_events') }}

),

web_events as (

    select * from {{ ref('fct_web_events') }}

),

contacts as (

    select * from {{ ref('stg_campaign_contacts') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

launch_dates as (

    select
        collection_id,
        max(launch_date) as launch_date
    from products
    where collection_id is not null and launch_date is not null
    group by collection_id

),

order_stats as (

    select
        population.reference_collection_id,
        population.customer_id,
        count(*) as purchase_count,
        {{ exact_sum('orders.net_amount') }} as purchase_amount,
        avg(case when orders.channel = 'store' then 1.0 else 0.0 end) as store_order_share,
        max(orders.order_date) as last_purchase_date
    from population
    inner join orders
        on
            population.customer_id = orders.customer_id
            and population.cutoff_date > orders.order_date
    where orders.is_purchase
    group by population.reference_collection_id, population.customer_id

),

population_cutoffs as (

    select distinct cutoff_date
    from population

),

launch_news_days as (

    -- Each day of a launch's news window with the number of launches whose window holds
    -- it (an e-mail counts once per launch whose news it follows).
    select
        cast({{ dbt.dateadd('day', 'news_window.day_offset', 'launch_dates.launch_date') }} as date)
            as news_day,
        count(*) as launches
    from launch_dates
    cross join range(0, {{ var('launch_news_email_days') }}) as news_window (day_offset)
    group by news_day

),

email_by_cutoff as (

    -- E-mail events counted once, in the first cutoff that follows them: a client's
    -- counts before any cutoff are then a running sum over cutoffs, instead of a join of
    -- every event with every reference launch.
    select
        email_events.customer_id,
        population_cutoffs.cutoff_date,
        count(case when email_events.event_type = 'sent' then 1 end) as emails_sent,
        count(case when email_events.event_type = 'open' then 1 end) as emails_opened,
        count(case when email_events.event_type = 'click' then 1 end) as emails_clicked,
        sum(case when email_events.event_type = 'sent' then coalesce(launch_news_days.launches, 0) else 0 end)
            as launch_emails_sent,
        sum(case when email_events.event_type = 'open' then coalesce(launch_news_days.launches, 0) else 0 end)
            as launch_emails_opened
    from email_events
    asof inner join population_cutoffs
        on email_events.event_date < population_cutoffs.cutoff_date
    left join launch_news_days
        on email_events.event_date = launch_news_days.news_day
    group by email_events.customer_id, population_cutoffs.cutoff_date

),

email_running as (

    select
        customer_id,
        cutoff_date,
        sum(emails_sent) over client_history as emails_sent,
        sum(emails_opened) over client_history as emails_opened,
        sum(emails_clicked) over client_history as emails_clicked,
        sum(launch_emails_sent) over client_history as launch_emails_sent,
        sum(launch_emails_opened) over client_history as launch_emails_opened
    from email_by_cutoff
    window client_history as (
        partition by customer_id order by cutoff_date
        rows between unbounded preceding and current row
    )

),

email_stats as (

    -- The latest running counts at or before each reference launch's cutoff.
    select
        population.reference_collection_id,
        population.customer_id,
        email_running.emails_sent,
        email_running.emails_opened,
        email_running.emails_clicked,
        email_running.launch_emails_sent,
        email_running.launch_emails_opened
    from population
    asof inner join email_running
        on
            population.customer_id = email_running.customer_id
            and population.cutoff_date >= email_running.cutoff_date

),

campaign_stats as (

    -- Past launch campaigns that selected the client (contacted or control): the brand's
    -- and advisors' own judgement, known before the cutoff. The reference launch's own
    -- campaign is excluded (its collection launches on the cutoff, not before).
    select
        population.reference_collection_id,
        population.customer_id,
        count(distinct contacts.campaign_id) as past_campaigns_selected
    from population
    inner join contacts
        on population.customer_id = contacts.customer_id
    inner join launch_dates
        on contacts.collection_id = launch_dates.collection_id
    where launch_dates.launch_date < population.cutoff_date
    group by population.reference_collection_id, population.customer_id

),

launches_known as (

    select
        population.reference_collection_id,
        population.customer_id,
        count(*) as launches_since_first_purchase
    from population
    inner join launch_dates
        on
            population.first_order_date < launch_dates.launch_date
            and population.cutoff_date > launch_dates.launch_date
    group by population.reference_collection_id, population.customer_id

),

web_stats as (

    select
        population.reference_collection_id,
        population.customer_id,
        count(case when web_events.event_type = 'view' then 1 end) as web_views_180d,
        count(case when web_events.event_type = 'add_to_cart' then 1 end) as web_carts_180d
    from population
    inner join web_events
        on
            population.customer_id = web_events.customer_id
            and population.cutoff_date > web_events.event_date
            and web_events.event_date
            >= cast({{ dbt.dateadd('day', -var('launch_web_lookback_days'), 'population.cutoff_date') }} as date)
    group by population.reference_collection_id, population.customer_id

),

features as (

    select
        population.reference_collection_id,
        population.customer_id,
        population.cutoff_date,
        coalesce(customers.gender, 'unknown') as gender,
        coalesce(customers.country, 'unknown') as country,
        cast(extract(year from population.cutoff_date) - customers.birth_year as double) as age,
        customers.home_store_id is not null as has_home_store,
        customers.advisor_id is not null as has_advisor,
        customers.email_opt_in,
        customers.phone_opt_in,
        cast({{ dbt.datediff('population.first_order_date', 'population.cutoff_date', 'day') }} as double)
            as tenure_days,
        cast({{ dbt.datediff('order_stats.last_purchase_date', 'population.cutoff_date', 'day') }} as double)
            as days_since_last_purchase,
        cast(coalesce(order_stats.purchase_count, 0) as double) as purchase_count,
        coalesce(order_stats.purchase_amount, 0) / greatest(coalesce(order_stats.purchase_count, 0), 1)
            as avg_order_value,
        coalesce(order_stats.purchase_count, 0) * 365.0
        / greatest({{ dbt.datediff('population.first_order_date', 'population.cutoff_date', 'day') }}, 30)
            as purchases_per_year,
        coalesce(order_stats.store_order_share, 0) as store_order_share,
        cast(coalesce(email_stats.emails_sent, 0) as double) as emails_sent,
        coalesce(email_stats.emails_opened, 0) * 1.0 / greatest(coalesce(email_stats.emails_sent, 0), 1)
            as email_open_rate,
        coalesce(email_stats.emails_clicked, 0) * 1.0 / greatest(coalesce(email_stats.emails_sent, 0), 1)
            as email_click_rate,
        coalesce(email_stats.launch_emails_opened, 0) * 1.0
        / greatest(coalesce(email_stats.launch_emails_sent, 0), 1) as launch_email_open_rate,
        cast(coalesce(campaign_stats.past_campaigns_selected, 0) as double) as past_campaigns_selected,
        coalesce(campaign_stats.past_campaigns_selected, 0) * 1.0
        / greatest(coalesce(launches_known.launches_since_first_purchase, 0), 1) as campaign_selection_rate,
        cast(coalesce(web_stats.web_views_180d, 0) as double) as web_views_180d,
        cast(coalesce(web_stats.web_carts_180d, 0) as double) as web_carts_180d
    from population
    inner join customers
        on population.customer_id = customers.customer_id
    left join order_stats
        on
            population.reference_collection_id = order_stats.reference_collection_id
            and population.customer_id = order_stats.customer_id
    left join email_stats
        on
            population.reference_collection_id = email_stats.reference_collection_id
            and population.customer_id = email_stats.customer_id
    left join web_stats
        on
            population.reference_collection_id = web_stats.reference_collection_id
            and population.customer_id = web_stats.customer_id
    left join campaign_stats
        on
            population.reference_collection_id = campaign_stats.reference_collection_id
            and population.customer_id = campaign_stats.customer_id
    left join launches_known
        on
            population.reference_collection_id = launches_known.reference_collection_id
            and population.customer_id = launches_known.customer_id

)

select * from features
