{#- Which products the client lists push most, per source: a quick check that the lists do
    not collapse onto a few best-sellers, and what advisors will be asked about most. -#}
with

recommendations as (

    select * from {{ ref('client_recommendations') }}

),

counted as (

    select
        recommendation_source,
        product_id,
        category,
        count(*) as clients,
        count(*) / sum(count(*)) over (partition by recommendation_source) as share_of_source
    from recommendations
    group by recommendation_source, product_id, category

),

ranked as (

    select
        *,
        row_number() over (
            partition by recommendation_source order by clients desc, product_id asc
        ) as product_rank
    from counted

)

select * from ranked
where product_rank <= 10
order by recommendation_source, product_rank
