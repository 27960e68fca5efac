{#- One row per audience band (lookalike band x appetence band) over the past
    launches: conversion of the clients the campaigns contacted (from
    campaign_contacts) and of every client (bought the collection within
    launch_window_days), with 95% Wilson intervals. -#}
with

scores as (

    select * from {{ ref('int_launch__scores') }}

),

past as (

    select *
    from scores
    where not is_upcoming

),

counted as (

    select
        audience_band,
        lookalike_band,
        appetence_band,
        count(distinct reference_collection_id) as launches,
        count(*) as n_clients,
        count(case when converted then 1 end) as n_converted,
        count(case when was_contacted then 1 end) as n_contacted,
        count(case when was_contacted and campaign_converted then 1 end) as n_contacted_converted
    from past
    group by audience_band, lookalike_band, appetence_band

),

rates as (

    select
        *,
        n_converted * 1.0 / nullif(n_clients, 0) as conversion_rate,
        n_contacted_converted * 1.0 / nullif(n_contacted, 0) as contacted_conversion_rate
    from counted

),

intervals as (

    select
        cast(audience_band as varchar) as audience_band,
        cast(lookalike_band as varchar) as lookalike_band,
        cast(appetence_band as varchar) as appetence_band,
        cast(launches as bigint) as launches,
        cast(n_clients as bigint) as n_clients,
        cast(n_converted as bigint) as n_converted,
        cast(conversion_rate as double) as conversion_rate,
        cast({{ wilson_interval('conversion_rate', 'n_clients', 'lower') }} as double) as conversion_ci_low,
        cast({{ wilson_interval('conversion_rate', 'n_clients', 'upper') }} as double) as conversion_ci_high,
        cast(n_contacted as bigint) as n_contacted,
        cast(n_contacted_converted as bigint) as n_contacted_converted,
        cast(contacted_conversion_rate as double) as contacted_conversion_rate,
        cast({{ wilson_interval('contacted_conversion_rate', 'n_contacted', 'lower') }} as double)
            as contacted_ci_low,
        cast({{ wilson_interval('contacted_conversion_rate', 'n_contacted', 'upper') }} as double)
            as contacted_ci_high
    from rates

)

select * from intervals
