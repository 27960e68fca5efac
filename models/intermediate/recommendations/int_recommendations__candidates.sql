{#- Per horizon, client and slot, the best products a family of the composed list
    proposes, in one shape: similar (the ranker's best products for an active client,
    whatever their source; for a client the ranker did not list, the sequence model's, in
    a category the client has shown interest in), win_back (an inactive client's
    favourites), bought_together (int_recommendations__bought_together), novel (popular
    in the client's market, in a category the client has never bought) and
    popular_in_market (a prospect's list). Every family gives the same columns; one step
    then keeps the recommendable products in stock in the client's home store or country
    (when the dataset has stock) and ranks them with one formula: the family's relevance
    with recommendations_margin_weight x the margin rate; the last keeps the best of
    each slot that the slotting (int_recommendations__composed) can use, and writes why
    in words for those rows only. The clients,
    their products and the baskets are tables of their own: in one query they overflowed
    DuckDB's memory limit at a million clients. -#}
{%- set margin_weight = var('recommendations_margin_weight') -%}
with

clients as (

    select * from {{ ref('int_recommendations__clients') }}

),

client_products as (

    select * from {{ ref('int_recommendations__client_products') }}

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

together_scored as (

    select * from {{ ref('int_recommendations__bought_together') }}

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

client_categories as (

    select distinct
        horizon,
        customer_id,
        category
    from client_products
    where category is not null

),

bought_categories as (

    select distinct
        horizon,
        customer_id,
        category
    from client_products
    where was_bought and category is not null

),

markets as (

    select distinct
        horizon,
        market
    from clients

),

-- The client's market first, then all markets, for small markets: one list per market
-- (the same for all its clients), joined to the clients afterwards.
market_popularity as (

    select
        markets.horizon,
        markets.market,
        popularity.product_id,
        popularity.buyers,
        case when popularity.market = '(all)' then 1 else 0 end as is_global,
        popularity.popularity_rank
    from markets
    inner join popularity
        on
            markets.horizon = popularity.horizon
            and (markets.market = popularity.market or popularity.market = '(all)')

),

market_popularity_ranked as (

    select
        *,
        row_number() over (
            partition by horizon, market, product_id order by is_global, popularity_rank
        ) as duplicate_rank
    from market_popularity

),

market_lists as (

    select
        *,
        row_number() over (
            partition by horizon, market order by is_global, popularity_rank, product_id
        ) as client_popularity_rank
    from market_popularity_ranked
    where duplicate_rank = 1

),

popular_for_client as (

    select
        clients.horizon,
        clients.customer_id,
        clients.market,
        market_lists.product_id,
        market_lists.buyers,
        market_lists.is_global,
        market_lists.client_popularity_rank
    from clients
    inner join market_lists
        on
            clients.horizon = market_lists.horizon
            and clients.market = market_lists.market

),

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
        'ranker' as similar_model
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
        'sequence model' as similar_model
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

-- Each family below gives the same columns: the product, its source and slot, the
-- family's own score, its relevance (what the slot ranks on) with how margin weighs on it
-- (margin_rule), and what its reason is written from (source_rank, similar_model,
-- last_purchased_at, antecedent_product_id, confidence, lift, is_global): the reason
-- itself is written for the products kept only, words for tens of millions of proposed
-- rows cost more than the ranking.
similar_family as (

    select
        horizon,
        customer_id,
        product_id,
        'similar' as recommendation_source,
        1 as slot_order,
        1 as slot_tier,
        score as source_score,
        score as relevance,
        'added' as margin_rule,
        rank as source_rank,
        similar_model,
        null::date as last_purchased_at,
        null::varchar as antecedent_product_id,
        null::double as confidence,
        null::double as lift,
        null::integer as is_global
    from similar_proposed

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
        repurchase.purchase_orders as source_rank,
        null as similar_model,
        repurchase.last_purchased_at,
        null as antecedent_product_id,
        null as confidence,
        null as lift,
        null as is_global
    from repurchase
    inner join clients
        on
            repurchase.horizon = clients.horizon
            and repurchase.customer_id = clients.customer_id
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
        null as source_rank,
        null as similar_model,
        null as last_purchased_at,
        together_scored.antecedent_product_id,
        together_scored.confidence,
        together_scored.lift,
        null as is_global
    from together_scored
    left join ranked
        on
            together_scored.horizon = ranked.horizon
            and together_scored.customer_id = ranked.customer_id
            and together_scored.product_id = ranked.product_id
    where together_scored.antecedent_product_id in (select catalog.product_id from catalog)

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
        popular_for_client.buyers as source_rank,
        null as similar_model,
        null as last_purchased_at,
        null as antecedent_product_id,
        null as confidence,
        null as lift,
        popular_for_client.is_global
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
        proposed.* exclude (relevance, margin_rule),
        clients.client_segment,
        clients.market,
        clients.home_store_id,
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
        scored.*,
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

),

-- A slot takes its best products not already in an earlier slot, and the earlier slots
-- hold at most the other slots' sizes: the best (all slots' sizes) of each slot suffice,
-- so the slotting reads a few rows per client instead of every product proposed.
slot_ranked as (

    select
        *,
        row_number() over (
            partition by horizon, customer_id, slot_order
            order by slot_tier asc, ranking_score desc, product_id asc
        ) as slot_candidate_rank
    from available

),

slot_kept as (

    select * exclude (slot_candidate_rank)
    from slot_ranked
    where slot_candidate_rank <= {{ var('recommendations_n_similar') + var('recommendations_n_bought_together') + var('recommendations_n_novel') }}

),

slot_candidates as (

    select
        slot_kept.horizon,
        slot_kept.customer_id,
        slot_kept.client_segment,
        slot_kept.product_id,
        catalog.product_name,
        catalog.category,
        slot_kept.recommendation_source,
        slot_kept.slot_order,
        slot_kept.slot_tier,
        case slot_kept.recommendation_source
            when 'similar'
                then
                    case
                        when client_products.was_bought
                            then 'you bought ' || catalog.product_name || ' before; '
                        when client_products.product_id is not null
                            then 'you browsed ' || catalog.product_name || '; '
                        else catalog.product_name || ', in ' || coalesce(catalog.category, 'a new category') || '; '
                    end
                    || case slot_kept.similar_model
                        when 'ranker' then 'ranked ' || cast(slot_kept.source_rank as varchar) || ' of your candidates by the ranker'
                        else 'sequence model rank ' || cast(slot_kept.source_rank as varchar)
                    end
            when 'win_back'
                then
                    'a favourite of yours: ' || catalog.product_name || ', in ' || cast(slot_kept.source_rank as varchar) || ' of your orders, last on '
                    || strftime(slot_kept.last_purchased_at, '%Y-%m-%d')
            when 'bought_together'
                then
                    catalog.product_name || ': bought together with ' || antecedent.product_name || ' in '
                    || cast(round(100 * slot_kept.confidence) as varchar) || '% of its orders (lift '
                    || cast(round(slot_kept.lift, 1) as varchar) || ')'
            else
                catalog.product_name || ', '
                || case
                    when slot_kept.client_segment = 'prospect' then 'popular: '
                    else 'new category for you: ' || catalog.category || '; '
                end
                || 'bought by ' || cast(slot_kept.source_rank as varchar) || ' clients in '
                || case when slot_kept.is_global = 1 then 'all markets' else slot_kept.market end
                || ' recently'
        end as reason,
        slot_kept.source_score,
        slot_kept.ranking_score,
        slot_kept.margin_rate,
        slot_kept.stock_status
    from slot_kept
    inner join catalog
        on slot_kept.product_id = catalog.product_id
    left join catalog as antecedent
        on slot_kept.antecedent_product_id = antecedent.product_id
    left join client_products
        on
            slot_kept.horizon = client_products.horizon
            and slot_kept.customer_id = client_products.customer_id
            and slot_kept.product_id = client_products.product_id

)

select * from slot_candidates
