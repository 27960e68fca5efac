{#- One row per engagement signal of a customer up to as_of (fct_email_events and
    fct_web_events are cut to it): e-mail opens and clicks, product views and
    add-to-carts. Empty when the dataset has no e-mail or web events (Olist, Online
    Retail): the models then run on purchases and profile only. -#}
with

email_events as (

    select * from {{ ref('fct_email_events') }}

),

web_events as (

    select * from {{ ref('fct_web_events') }}

),

email_signals as (

    select
        customer_id,
        event_date,
        'email_' || event_type as event_kind
    from email_events
    where event_type in ('open', 'click')

),

web_signals as (

    select
        customer_id,
        event_date,
        case when event_type = 'add_to_cart' then 'web_cart' else 'web_view' end as event_kind
    from web_events

),

signals as (

    select * from email_signals
    union all
    select * from web_signals

)

select * from signals
