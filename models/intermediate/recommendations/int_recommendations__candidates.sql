{#- Per horizon and client, every product a family of the composed list proposes, in one
    shape: similar (the ranker's best products for an active client, whatever their
    source; for a client the ranker did not list, the sequence model's, in a category the
    client has shown interest in), win_back (an inactive client's favourites), bought_together
    (market-basket rules from what the client bought last), novel (popular in the
    client's market, in a category the client has never bought) and popular_in_market
    (a prospect's list). Every family gives the same columns; one step then keeps the
    recommendable products in stock in the client's home store or country (when the
    dataset has stock) and ranks them with one formula: the family's relevance with
    recommendations_margin_weight x the margin rate. int_recommendations__composed fills
    the slots from here. A table although the candidates are many: as a view, the slotting
    and each of its tests computed them again (at 100k clients, 4 x 200 s). -#}
{%- set margin_weight = var('recommendations_margin_weight') -%}
with

horizons as (

    select * from {{ ref('int_recommendations__horizons') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

catalog as (

    select * from {{ ref('int_recommendations__catalog') }}

),

availability as (

    select * from {{ ref('int_stock_availability') }}

),

popularity as (

    select * from {{ ref('int_recommendations__popularity') }}

),

repurchase as (

    select * from {{ ref('int_recommendations__repurchase') }}

),

rules as (

    select * from {{ ref('int_recommendations__item_cooccurrence') }}

),

ranked as (

    select * from {{ ref('int_recommendations__ranker') }}
    where variant = 'ranker' and customer_id is not null

),

sequence_model as (

    select * from {{ ref('int_recommendations__lstm') }}
    where variant = '{{ var("recommendations_similar_variant") }}'

),

stock_known as (

    select count(*) > 0 as has_stock
    from availability

),

-- The backtest lists serve only the evaluation: their clients are the evaluated ones; the
-- current lists are for every client known on as_of.
evaluated as (

    select * from {{ ref('int_recommendations__evaluated_clients') }}

),

horizon_clients as (

    select
        horizons.horizon,
        horizons.known_before,
        customers.customer_id,
        coalesce(customers.country, '(unknown)') as market,
        customers.home_store_id
    from customers
    inner join horizons
        on customers.first_seen_at is null or cast(customers.first_seen_at as date) < horizons.known_before
    left join evaluated
        on
            horizons.horizon = evaluated.horizon
            and customers.customer_id = evaluated.customer_id
    where not horizons.is_backtest or evaluated.customer_id is not null

),

known_events as (

    select
        horizon_clients.horizon,
        events.customer_id,
        events.product_id,
        events.event_type,
        events.event_date,
        catalog.category
    from events
    inner join horizon_clients
        on
            events.customer_id = horizon_clients.customer_id
            and events.event_date < horizon_clients.known_before
    left join catalog
        on events.product_id = catalog.product_id

),

purchase_summary as (

    select
        horizon,
        customer_id,
        max(event_date) as last_purchase_date
    from known_events
    where event_type = 'purchase'
    group by horizon, customer_id

),

clients as (

    select
        horizon_clients.horizon,
        horizon_clients.customer_id,
        horizon_clients.market,
        horizon_clients.home_store_id,
        purchase_summary.last_purchase_date,
        case
            when purchase_summary.last_purchase_date is null then 'prospect'
            when purchase_summary.last_purchase_date
                < {{ dbt.dateadd('day', -var('recommendations_inactive_days'), 'horizon_clients.known_before') }}
                then 'inactive'
            else 'active'
        end as client_segment
    from horizon_clients
    left join purchase_summary
        on
            horizon_clients.horizon = purchase_summary.horizon
            and horizon_clients.customer_id = purchase_summary.customer_id

),

client_categories as (

    select distinct
        horizon,
        customer_id,
        category
    from known_events
    where category is not null

),

bought_categories as (

    select distinct
        horizon,
        customer_id,
        category
    from known_events
    where event_type = 'purchase' and category is not null

),

client_products as (

    select
        horizon,
        customer_id,
        product_id,
        max(case when event_type = 'purchase' then 1 else 0 end) = 1 as was_bought,
        max(case when event_type = 'purchase' then event_date end) as last_bought_on
    from known_events
    group by horizon, customer_id, product_id

),

market_popularity as (

    -- The client's market first, then all markets, for small markets.
    select
        clients.horizon,
        clients.customer_id,
        clients.market,
        popularity.product_id,
        popularity.buyers,
        case when popularity.market = '(all)' then 1 else 0 end as is_global,
        popularity.popularity_rank
    from clients
    inner join popularity
        on
            clients.horizon = popularity.horizon
            and (clients.market = popularity.market or popularity.market = '(all)')

),

market_popularity_ranked as (

    select
        *,
        row_number() over (
            partition by horizon, customer_id, product_id order by is_global, popularity_rank
        ) as duplicate_rank
    from market_popularity

),

popular_for_client as (

    select
        *,
        row_number() over (
            partition by horizon, customer_id order by is_global, popularity_rank, product_id
        ) as client_popularity_rank
    from market_popularity_ranked
    where duplicate_rank = 1

),

antecedents_ranked as (

    select
        horizon,
        customer_id,
        product_id,
        row_number() over (
            partition by horizon, customer_id order by last_bought_on desc, product_id asc
        ) as recency_rank
    from client_products
    where was_bought

),

-- The client's most recently bought products are what "bought together" completes.
antecedents as (

    select *
    from antecedents_ranked
    where recency_rank <= {{ var('recommendations_basket_antecedents') }}

),

-- The rule behind each product bought together: the most confident, ties broken by lift,
-- then by the antecedent, so that the reason names one antecedent whatever the row order.
together_ranked as (

    select
        antecedents.horizon,
        antecedents.customer_id,
        rules.consequent_product_id as product_id,
        rules.confidence,
        rules.antecedent_product_id,
        rules.lift,
        row_number() over (
            partition by antecedents.horizon, antecedents.customer_id, rules.consequent_product_id
            order by rules.confidence desc, rules.lift desc, rules.antecedent_product_id asc
        ) as rule_rank
    from antecedents
    inner join rules
        on
            antecedents.horizon = rules.horizon
            and antecedents.product_id = rules.antecedent_product_id

),

together_scored as (

    select *
    from together_ranked
    where rule_rank = 1

),

-- Each family below gives the same columns: the product, its source and slot, the
-- family's own score, its relevance (what the slot ranks on) with how margin weighs on it
-- (margin_rule), and the reason in words.
-- The clients the ranker listed; the others (no ranker: too little history to train it)
-- keep the sequence model's similar products.
ranked_clients as (

    select distinct
        horizon,
        customer_id
    from ranked

),

sequence_fallback as (

    select sequence_model.*
    from sequence_model
    left join ranked_clients
        on
            sequence_model.horizon = ranked_clients.horizon
            and sequence_model.customer_id = ranked_clients.customer_id
    where ranked_clients.customer_id is null

),

-- The first slot takes the ranker's best products, whatever their source.
ranked_similar as (

    select
        ranked.horizon,
        ranked.customer_id,
        ranked.product_id,
        ranked.score,
        ranked.rank,
        'ranked ' || cast(ranked.rank as varchar) || ' of your candidates by the ranker' as model_words
    from ranked
    inner join clients
        on
            ranked.horizon = clients.horizon
            and ranked.customer_id = clients.customer_id
    where clients.client_segment = 'active'

),

lstm_similar as (

    select
        sequence_fallback.horizon,
        sequence_fallback.customer_id,
        sequence_fallback.product_id,
        sequence_fallback.score,
        sequence_fallback.rank,
        'sequence model rank ' || cast(sequence_fallback.rank as varchar) as model_words
    from sequence_fallback
    inner join clients
        on
            sequence_fallback.horizon = clients.horizon
            and sequence_fallback.customer_id = clients.customer_id
    inner join catalog
        on sequence_fallback.product_id = catalog.product_id
    inner join client_categories
        on
            sequence_fallback.horizon = client_categories.horizon
            and sequence_fallback.customer_id = client_categories.customer_id
            and catalog.category = client_categories.category
    where clients.client_segment = 'active'

),

similar_proposed as (

    select * from ranked_similar
    union all
    select * from lstm_similar

),

similar_family as (

    select
        similar_proposed.horizon,
        similar_proposed.customer_id,
        similar_proposed.product_id,
        'similar' as recommendation_source,
        1 as slot_order,
        1 as slot_tier,
        similar_proposed.score as source_score,
        similar_proposed.score as relevance,
        'added' as margin_rule,
        case
            when client_products.was_bought
                then 'you bought ' || catalog.product_name || ' before; '
            when client_products.product_id is not null
                then 'you browsed ' || catalog.product_name || '; '
            else catalog.product_name || ', in ' || coalesce(catalog.category, 'a new category') || '; '
        end || similar_proposed.model_words as reason
    from similar_proposed
    inner join catalog
        on similar_proposed.product_id = catalog.product_id
    left join client_products
        on
            similar_proposed.horizon = client_products.horizon
            and similar_proposed.customer_id = client_products.customer_id
            and similar_proposed.product_id = client_products.product_id

),

win_back_family as (

    select
        repurchase.horizon,
        repurchase.customer_id,
        repurchase.product_id,
        'win_back' as recommendation_source,
        1 as slot_order,
        1 as slot_tier,
        cast(repurchase.purchase_orders as double) as source_score,
        repurchase.purchase_orders as relevance,
        'scaled' as margin_rule,
        'a favourite of yours: ' || catalog.product_name || ', in ' || cast(repurchase.purchase_orders as varchar) || ' of your orders, last on '
        || strftime(repurchase.last_purchased_at, '%Y-%m-%d') as reason
    from repurchase
    inner join clients
        on
            repurchase.horizon = clients.horizon
            and repurchase.customer_id = clients.customer_id
    inner join catalog
        on repurchase.product_id = catalog.product_id
    where clients.client_segment = 'inactive'

),

-- Products bought together fill their slot in the ranker's order when it ranked them,
-- then (slot_tier 2) by the rule's confidence.
together_family as (

    select
        together_scored.horizon,
        together_scored.customer_id,
        together_scored.product_id,
        'bought_together' as recommendation_source,
        2 as slot_order,
        case when ranked.product_id is null then 2 else 1 end as slot_tier,
        together_scored.confidence as source_score,
        coalesce(ranked.score, together_scored.confidence) as relevance,
        case when ranked.product_id is null then 'scaled' else 'added' end as margin_rule,
        catalog.product_name || ': bought together with ' || antecedent.product_name || ' in '
        || cast(round(100 * together_scored.confidence) as varchar) || '% of its orders (lift '
        || cast(round(together_scored.lift, 1) as varchar) || ')' as reason
    from together_scored
    inner join catalog
        on together_scored.product_id = catalog.product_id
    inner join catalog as antecedent
        on together_scored.antecedent_product_id = antecedent.product_id
    left join ranked
        on
            together_scored.horizon = ranked.horizon
            and together_scored.customer_id = ranked.customer_id
            and together_scored.product_id = ranked.product_id

),

-- One family for the popular products: the novel slot of a client who bought (in a
-- category the client never bought), the whole list of a prospect.
popular_family as (

    select
        popular_for_client.horizon,
        popular_for_client.customer_id,
        popular_for_client.product_id,
        case when clients.client_segment = 'prospect' then 'popular_in_market' else 'novel' end
            as recommendation_source,
        case when clients.client_segment = 'prospect' then 1 else 3 end as slot_order,
        case when ranked.product_id is null then 2 else 1 end as slot_tier,
        cast(popular_for_client.buyers as double) as source_score,
        coalesce(ranked.score, popular_for_client.client_popularity_rank) as relevance,
        case when ranked.product_id is null then 'rank' else 'added' end as margin_rule,
        catalog.product_name || ', '
        || case
            when clients.client_segment = 'prospect' then 'popular: '
            else 'new category for you: ' || catalog.category || '; '
        end
        || 'bought by ' || cast(popular_for_client.buyers as varchar) || ' clients in '
        || case when popular_for_client.is_global = 1 then 'all markets' else popular_for_client.market end
        || ' recently' as reason
    from popular_for_client
    inner join clients
        on
            popular_for_client.horizon = clients.horizon
            and popular_for_client.customer_id = clients.customer_id
    inner join catalog
        on popular_for_client.product_id = catalog.product_id
    left join bought_categories
        on
            popular_for_client.horizon = bought_categories.horizon
            and popular_for_client.customer_id = bought_categories.customer_id
            and catalog.category = bought_categories.category
    left join ranked
        on
            popular_for_client.horizon = ranked.horizon
            and popular_for_client.customer_id = ranked.customer_id
            and popular_for_client.product_id = ranked.product_id
    where clients.client_segment = 'prospect' or bought_categories.category is null

),

proposed as (

    select * from similar_family
    union all
    select * from win_back_family
    union all
    select * from together_family
    union all
    select * from popular_family

),

-- One scoring shape for every family: recommendable products only, margin weighed in.
scored as (

    select
        proposed.horizon,
        proposed.customer_id,
        clients.client_segment,
        clients.market,
        clients.home_store_id,
        proposed.product_id,
        catalog.product_name,
        catalog.category,
        proposed.recommendation_source,
        proposed.slot_order,
        proposed.slot_tier,
        proposed.reason,
        proposed.source_score,
        case proposed.margin_rule
            -- A log-probability: the margin adds to it.
            when 'added' then proposed.relevance + {{ margin_weight }} * catalog.ranking_margin_rate
            -- A count or a confidence: the margin scales it.
            when 'scaled' then proposed.relevance * (1 + {{ margin_weight }} * catalog.ranking_margin_rate)
            -- A popularity rank (1 = best): the margin shrinks the rank's penalty.
            when 'rank' then -proposed.relevance * (1 - {{ margin_weight }} * catalog.ranking_margin_rate / 2)
        end as ranking_score,
        catalog.margin_rate
    from proposed
    inner join clients
        on
            proposed.horizon = clients.horizon
            and proposed.customer_id = clients.customer_id
    inner join catalog
        on proposed.product_id = catalog.product_id

),

with_stock as (

    select
        scored.* exclude (market, home_store_id),
        case
            when not stock_known.has_stock then 'not checked: no stock data in this dataset'
            when coalesce(store_stock.units_on_hand, 0) > 0 then 'in stock in home store'
            when coalesce(country_stock.units_on_hand, 0) > 0 then 'in stock in country'
        end as stock_status
    from scored
    cross join stock_known
    left join availability as store_stock
        on
            store_stock.scope_type = 'store'
            and scored.home_store_id = store_stock.scope_id
            and scored.product_id = store_stock.product_id
    left join availability as country_stock
        on
            country_stock.scope_type = 'country'
            and scored.market = country_stock.scope_id
            and scored.product_id = country_stock.product_id

),

available as (

    select * from with_stock
    where stock_status is not null

)

select * from available
