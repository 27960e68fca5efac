{#- One row per reference and client: what was known of the client's relation to the
    stores and to contact before the reference date. References are every past launch
    campaign (its targeted clients, as of the day of its first contact: the rows the
    store-sensitivity model learns from, with the channel and outcome) and 'current'
    (every client, as of the day after as_of: the rows it scores). -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

contacts as (

    select * from {{ ref('stg_campaign_contacts') }}

),

sends as (

    select * from {{ ref('int_clienteling__sends') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

campaign_dates as (

    {#- A campaign is known from its first contact (its control group was chosen then). -#}
    select
        campaign_id,
        cast(min(coalesce(contacted_at, cast(null as timestamp))) as date) as reference_date
    from contacts
    group by campaign_id

),

campaign_references as (

    select
        contacts.campaign_id as reference_id,
        campaign_dates.reference_date,
        contacts.customer_id,
        contacts.is_control,
        contacts.contact_channel,
        contacts.converted
    from contacts
    inner join campaign_dates
        on contacts.campaign_id = campaign_dates.campaign_id
    where campaign_dates.reference_date <= (select as_of_date from as_of)

),

current_references as (

    select
        'current' as reference_id,
        {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as reference_date,
        customers.customer_id,
        cast(null as boolean) as is_control,
        cast(null as varchar) as contact_channel,
        cast(null as boolean) as converted
    from customers
    cross join as_of

),

references_ as (

    select
        reference_id,
        cast(reference_date as date) as reference_date,
        customer_id,
        is_control,
        contact_channel,
        converted
    from campaign_references
    union all
    select
        reference_id,
        cast(reference_date as date) as reference_date,
        customer_id,
        is_control,
        contact_channel,
        converted
    from current_references

),

order_history as (

    select
        references_.reference_id,
        references_.customer_id,
        count(*) as purchases,
        cast(sum(case when orders.channel = 'store' then 1 else 0 end) as integer) as store_purchases,
        cast(sum(
            case when orders.store_id = customers.home_store_id then 1 else 0 end
        ) as integer) as home_store_purchases,
        count(distinct orders.store_id) as stores_visited,
        {{ exact_sum('orders.net_amount') }} as spend,
        {{ exact_avg('orders.review_score') }} as mean_review_score,
        cast(sum(case when orders.review_score <= 2 then 1 else 0 end) as integer) as low_reviews,
        min(orders.order_date) as first_purchase_date,
        max(orders.order_date) as last_purchase_date
    from references_
    inner join orders
        on
            references_.customer_id = orders.customer_id
            and references_.reference_date > orders.order_date
            and orders.is_purchase
    inner join customers
        on references_.customer_id = customers.customer_id
    group by references_.reference_id, references_.customer_id

),

return_history as (

    select
        references_.reference_id,
        references_.customer_id,
        count(*) as returned_orders
    from references_
    inner join orders
        on
            references_.customer_id = orders.customer_id
            and references_.reference_date > orders.order_date
            and orders.is_return
    group by references_.reference_id, references_.customer_id

),

email_history as (

    select
        references_.reference_id,
        references_.customer_id,
        count(*) as emails_sent,
        cast(sum(case when sends.is_opened then 1 else 0 end) as integer) as emails_opened
    from references_
    inner join sends
        on
            references_.customer_id = sends.customer_id
            and references_.reference_date > sends.send_date
    group by references_.reference_id, references_.customer_id

),

contact_history as (

    {#- Earlier campaigns only: a campaign's own outcome is never a feature of it. -#}
    select
        references_.reference_id,
        references_.customer_id,
        cast(sum(
            case
                when not past.is_control and past.contact_channel in ('phone', 'store')
                    then 1
                else 0
            end
        ) as integer) as advisor_contacts,
        cast(sum(
            case
                when
                    not past.is_control and past.contact_channel in ('phone', 'store')
                    and past.converted
                    then 1
                else 0
            end
        ) as integer) as advisor_conversions,
        cast(sum(
            case when not past.is_control and past.contact_channel = 'email' then 1 else 0 end
        ) as integer) as email_contacts,
        cast(sum(
            case
                when not past.is_control and past.contact_channel = 'email' and past.converted
                    then 1
                else 0
            end
        ) as integer) as email_conversions,
        cast(sum(case when past.is_control then 1 else 0 end) as integer) as times_in_control,
        cast(sum(case when past.is_control and past.converted then 1 else 0 end) as integer)
            as control_conversions
    from references_
    inner join campaign_references as past
        on
            references_.customer_id = past.customer_id
            and references_.reference_date > past.reference_date
    group by references_.reference_id, references_.customer_id

),

features as (

    select
        references_.reference_id,
        references_.reference_date,
        references_.customer_id,
        customers.country,
        customers.home_store_id,
        customers.advisor_id,
        customers.email_opt_in,
        customers.phone_opt_in,
        references_.is_control,
        case
            when references_.contact_channel in ('phone', 'store') then 'advisor'
            when references_.contact_channel = 'email' then 'email'
        end as contact_arm,
        references_.converted,
        customers.home_store_id is not null as has_home_store,
        customers.advisor_id is not null as has_advisor,
        extract(year from references_.reference_date) - customers.birth_year as age,
        coalesce(order_history.purchases, 0) as purchases,
        coalesce(order_history.store_purchases, 0) as store_purchases,
        coalesce(order_history.home_store_purchases, 0) as home_store_purchases,
        coalesce(order_history.stores_visited, 0) as stores_visited,
        coalesce(order_history.spend, 0) as spend,
        order_history.mean_review_score,
        coalesce(order_history.low_reviews, 0) as low_reviews,
        coalesce(return_history.returned_orders, 0) as returned_orders,
        {{ dbt.datediff('order_history.first_purchase_date', 'references_.reference_date', 'day') }}
            as tenure_days,
        {{ dbt.datediff('order_history.last_purchase_date', 'references_.reference_date', 'day') }}
            as days_since_last_purchase,
        coalesce(email_history.emails_sent, 0) as emails_sent,
        coalesce(email_history.emails_opened, 0) as emails_opened,
        coalesce(contact_history.advisor_contacts, 0) as advisor_contacts,
        coalesce(contact_history.advisor_conversions, 0) as advisor_conversions,
        coalesce(contact_history.email_contacts, 0) as email_contacts,
        coalesce(contact_history.email_conversions, 0) as email_conversions,
        coalesce(contact_history.times_in_control, 0) as times_in_control,
        coalesce(contact_history.control_conversions, 0) as control_conversions
    from references_
    inner join customers
        on references_.customer_id = customers.customer_id
    left join order_history
        on
            references_.reference_id = order_history.reference_id
            and references_.customer_id = order_history.customer_id
    left join return_history
        on
            references_.reference_id = return_history.reference_id
            and references_.customer_id = return_history.customer_id
    left join email_history
        on
            references_.reference_id = email_history.reference_id
            and references_.customer_id = email_history.customer_id
    left join contact_history
        on
            references_.reference_id = contact_history.reference_id
            and references_.customer_id = contact_history.customer_id

),

with_shares as (

    select
        *,
        case when purchases > 0 then store_purchases * 1.0 / purchases end as store_share,
        case when purchases > 0 then home_store_purchases * 1.0 / purchases end
            as home_store_share,
        case when purchases > 0 then returned_orders * 1.0 / purchases end as return_rate,
        case when emails_sent > 0 then emails_opened * 1.0 / emails_sent end
            as email_open_rate
    from features

)

select * from with_shares
