{#- client_recommendations.email_opt_in is the client's consent as dim_customers gives it
    (null stays null: an unknown consent is never turned into a yes or a no). -#}
with

recommendations as (

    select * from {{ ref('client_recommendations') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

mismatched as (

    select
        recommendations.customer_id,
        recommendations.email_opt_in as listed_opt_in,
        customers.email_opt_in as client_opt_in
    from recommendations
    inner join customers
        on recommendations.customer_id = customers.customer_id
    where recommendations.email_opt_in is distinct from customers.email_opt_in

)

select * from mismatched
