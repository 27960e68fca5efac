{#- Per backtest horizon, the clients the backtest evaluates: those who bought a
    catalogue product in its holdout (from the cut-off to the horizon's as_of_date), at
    most recommendations_sample_clients of them, drawn by the seeded hash that
    clientele.seam.draw_sample uses (hash of the client id and '#' recommendations_seed,
    ties by client id), so that the SQL lists and the Python models list the same
    clients. The backtest lists of every method are made for these clients only: an
    extra cut-off costs at most a sample, whatever the number of clients. -#}
with

horizons as (

    select * from {{ ref('int_recommendations__horizons') }}
    where is_backtest

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

catalog as (

    select * from {{ ref('int_recommendations__catalog') }}

),

holdout_buyers as (

    select distinct
        horizons.horizon,
        events.customer_id
    from events
    inner join horizons
        on
            events.event_date >= horizons.known_before
            and events.event_date <= horizons.as_of_date
    inner join catalog
        on events.product_id = catalog.product_id
    where events.event_type = 'purchase'

),

drawn as (

    select
        horizon,
        customer_id,
        hash(cast(customer_id as varchar) || '#{{ var("recommendations_seed") }}') as draw
    from holdout_buyers

),

ranked as (

    select
        horizon,
        customer_id,
        draw,
        row_number() over (partition by horizon order by draw asc, customer_id asc) as draw_rank,
        count(*) over (partition by horizon) as holdout_buyers
    from drawn

)

select * from ranked
where draw_rank <= {{ var('recommendations_sample_clients') }}
