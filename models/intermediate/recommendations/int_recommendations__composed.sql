{#- Per horizon and client, the composed list: recommendations_n_similar similar products
    (sequence model; for an inactive client, a win-back list of their favourites),
    recommendations_n_bought_together products bought together with what the client has
    (market basket), recommendations_n_novel product(s) from a category the client has
    never bought (popular in their market); a prospect gets the products popular in their
    market. Only recommendable products in stock in the client's home store or country
    (when the dataset has stock); within a slot, ranking adds recommendations_margin_weight
    x margin rate. Both horizons are built so that the backtest evaluates this exact logic
    (the backtest for the clients it evaluates only). -#}
{%- set n_similar = var('recommendations_n_similar', 3) -%}
{%- set n_together = var('recommendations_n_bought_together', 3) -%}
{%- set n_novel = var('recommendations_n_novel', 1) -%}
{%- set margin_weight = var('recommendations_margin_weight', 0.5) -%}
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

    select * from {{ ref('int_recommendations__availability') }}

),

popularity as (

    select * from {{ ref('recommendations_popularity') }}

),

repurchase as (

    select * from {{ ref('recommendations_repurchase') }}

),

rules as (

    select * from {{ ref('recommendations_item_cooccurrence') }}

),

sequence_model as (

    select * from {{ ref('recommendations_lstm') }}
    where variant = '{{ var("recommendations_similar_variant", "lstm") }}'

),

stock_known as (

    select count(*) > 0 as has_stock
    from availability

),

-- The backtest lists serve only the evaluation: its clients are those who bought between
-- the cut-off and as_of; the current lists are for every client known on as_of.
evaluated as (

    select distinct
        horizons.horizon,
        events.customer_id
    from events
    inner join horizons
        on events.event_date >= horizons.known_before
    where horizons.horizon = 'backtest' and events.event_type = 'purchase'

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
    where horizons.horizon != 'backtest' or evaluated.customer_id is not null

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
                < {{ dbt.dateadd('day', -var('recommendations_inactive_days', 365), 'horizon_clients.known_before') }}
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

similar_candidates as (

    select
        sequence_model.horizon,
        sequence_model.customer_id,
        sequence_model.product_id,
        'similar' as recommendation_source,
        1 as slot_order,
        sequence_model.score as source_score,
        sequence_model.score + {{ margin_weight }} * catalog.ranking_margin_rate as ranking_score,
        case
            when client_products.was_bought
                then 'you bought it before; sequence model rank ' || cast(sequence_model.rank as varchar)
            when client_products.product_id is not null
                then 'you browsed it; sequence model rank ' || cast(sequence_model.rank as varchar)
            else 'like your ' || catalog.category || ' products; sequence model rank '
                || cast(sequence_model.rank as varchar)
        end as reason
    from sequence_model
    inner join clients
        on
            sequence_model.horizon = clients.horizon
            and sequence_model.customer_id = clients.customer_id
    inner join catalog
        on sequence_model.product_id = catalog.product_id
    inner join client_categories
        on
            sequence_model.horizon = client_categories.horizon
            and sequence_model.customer_id = client_categories.customer_id
            and catalog.category = client_categories.category
    left join client_products
        on
            sequence_model.horizon = client_products.horizon
            and sequence_model.customer_id = client_products.customer_id
            and sequence_model.product_id = client_products.product_id
    where clients.client_segment = 'active'

),

win_back_candidates as (

    select
        repurchase.horizon,
        repurchase.customer_id,
        repurchase.product_id,
        'win_back' as recommendation_source,
        1 as slot_order,
        cast(repurchase.purchase_orders as double) as source_score,
        repurchase.purchase_orders * (1 + {{ margin_weight }} * catalog.ranking_margin_rate) as ranking_score,
        'a favourite of yours: in ' || cast(repurchase.purchase_orders as varchar) || ' of your orders, last on '
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
    where recency_rank <= {{ var('recommendations_basket_antecedents', 10) }}

),

together_scored as (

    select
        antecedents.horizon,
        antecedents.customer_id,
        rules.consequent_product_id as product_id,
        max(rules.confidence) as confidence,
        -- The rule with the highest confidence explains the product; a tie goes to the
        -- greatest antecedent id, so two builds give the same reason.
        arg_max(
            rules.antecedent_product_id,
            struct_pack(confidence := rules.confidence, antecedent := rules.antecedent_product_id)
        ) as antecedent_product_id,
        arg_max(
            rules.lift,
            struct_pack(confidence := rules.confidence, antecedent := rules.antecedent_product_id)
        ) as lift
    from antecedents
    inner join rules
        on
            antecedents.horizon = rules.horizon
            and antecedents.product_id = rules.antecedent_product_id
    group by antecedents.horizon, antecedents.customer_id, rules.consequent_product_id

),

together_candidates as (

    select
        together_scored.horizon,
        together_scored.customer_id,
        together_scored.product_id,
        'bought_together' as recommendation_source,
        2 as slot_order,
        together_scored.confidence as source_score,
        together_scored.confidence * (1 + {{ margin_weight }} * catalog.ranking_margin_rate) as ranking_score,
        'bought together with ' || together_scored.antecedent_product_id || ' in '
        || cast(round(100 * together_scored.confidence) as varchar) || '% of its orders (lift '
        || cast(round(together_scored.lift, 1) as varchar) || ')' as reason
    from together_scored
    inner join catalog
        on together_scored.product_id = catalog.product_id

),

novel_candidates as (

    select
        popular_for_client.horizon,
        popular_for_client.customer_id,
        popular_for_client.product_id,
        'novel' as recommendation_source,
        3 as slot_order,
        cast(popular_for_client.buyers as double) as source_score,
        -popular_for_client.client_popularity_rank * (1 - {{ margin_weight }} * catalog.ranking_margin_rate / 2)
            as ranking_score,
        'new category for you: ' || catalog.category || '; bought by ' || cast(popular_for_client.buyers as varchar)
        || ' clients in ' || case when popular_for_client.is_global = 1 then 'all markets' else
                popular_for_client.market
        end || ' recently' as reason
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
    where clients.client_segment != 'prospect' and bought_categories.category is null

),

prospect_candidates as (

    select
        popular_for_client.horizon,
        popular_for_client.customer_id,
        popular_for_client.product_id,
        'popular_in_market' as recommendation_source,
        1 as slot_order,
        cast(popular_for_client.buyers as double) as source_score,
        -popular_for_client.client_popularity_rank * (1 - {{ margin_weight }} * catalog.ranking_margin_rate / 2)
            as ranking_score,
        'popular: bought by ' || cast(popular_for_client.buyers as varchar) || ' clients in '
        || case when popular_for_client.is_global = 1 then 'all markets' else popular_for_client.market end
        || ' recently' as reason
    from popular_for_client
    inner join clients
        on
            popular_for_client.horizon = clients.horizon
            and popular_for_client.customer_id = clients.customer_id
    inner join catalog
        on popular_for_client.product_id = catalog.product_id
    where clients.client_segment = 'prospect'

),

candidates as (

    select * from similar_candidates
    union all
    select * from win_back_candidates
    union all
    select * from together_candidates
    union all
    select * from novel_candidates
    union all
    select * from prospect_candidates

),

with_stock as (

    select
        candidates.*,
        case
            when not stock_known.has_stock then 'not checked: no stock data in this dataset'
            when coalesce(store_stock.units_on_hand, 0) > 0 then 'in stock in home store'
            when coalesce(country_stock.units_on_hand, 0) > 0 then 'in stock in country'
        end as stock_status
    from candidates
    cross join stock_known
    inner join clients
        on
            candidates.horizon = clients.horizon
            and candidates.customer_id = clients.customer_id
    left join availability as store_stock
        on
            store_stock.scope_type = 'store'
            and clients.home_store_id = store_stock.scope_id
            and candidates.product_id = store_stock.product_id
    left join availability as country_stock
        on
            country_stock.scope_type = 'country'
            and clients.market = country_stock.scope_id
            and candidates.product_id = country_stock.product_id

),

available as (

    select * from with_stock
    where stock_status is not null

),

first_slot_ranked as (

    {{ recommendations_slot_ranked(1, []) }}

),

first_slot as (

    select *
    from first_slot_ranked
    where
        slot_rank <= case
            when recommendation_source = 'popular_in_market' then {{ n_similar + n_together + n_novel }}
            else {{ n_similar }}
        end

),

second_slot_ranked as (

    {{ recommendations_slot_ranked(2, ['first_slot']) }}

),

second_slot as (

    select *
    from second_slot_ranked
    where slot_rank <= {{ n_together }}

),

third_slot_ranked as (

    {{ recommendations_slot_ranked(3, ['first_slot', 'second_slot']) }}

),

third_slot as (

    select *
    from third_slot_ranked
    where slot_rank <= {{ n_novel }}

),

selected as (

    select * from first_slot
    union all
    select * from second_slot
    union all
    select * from third_slot

),

composed as (

    select
        selected.horizon,
        selected.customer_id,
        clients.client_segment,
        row_number() over (
            partition by selected.horizon, selected.customer_id
            order by selected.slot_order, selected.slot_rank
        ) as recommendation_rank,
        selected.product_id,
        catalog.category,
        selected.recommendation_source,
        selected.reason,
        selected.source_score,
        selected.ranking_score,
        catalog.margin_rate,
        selected.stock_status
    from selected
    inner join clients
        on
            selected.horizon = clients.horizon
            and selected.customer_id = clients.customer_id
    inner join catalog
        on selected.product_id = catalog.product_id

)

select * from composed
