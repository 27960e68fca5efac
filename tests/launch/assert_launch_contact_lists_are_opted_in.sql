{#- Every client a launch contact list (advisor_worklist, launch_activation) gives
    a channel consented to that channel, is outside the control group and meets
    the contact target: no slot goes to a client under launch_min_priority. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

audience as (

    select * from {{ ref('launch_audience') }}

),

worklist as (

    select * from {{ ref('advisor_worklist') }}

),

activation as (

    select * from {{ ref('launch_activation') }}

),

contacts as (

    select
        'advisor_worklist' as contact_list,
        customer_id,
        contact_channel as channel
    from worklist

    union all

    select
        'launch_activation' as contact_list,
        customer_id,
        channel
    from activation

),

checked as (

    select
        contacts.contact_list,
        contacts.customer_id,
        contacts.channel,
        audience.is_control,
        audience.meets_target,
        case
            when contacts.channel = 'email' then customers.email_opt_in
            when contacts.channel = 'phone' then customers.phone_opt_in
            else false
        end as has_consent
    from contacts
    inner join customers
        on contacts.customer_id = customers.customer_id
    left join audience
        on contacts.customer_id = audience.customer_id

)

select *
from checked
where
    not coalesce(has_consent, false)
    or coalesce(is_control, true)
    or not coalesce(meets_target, false)
