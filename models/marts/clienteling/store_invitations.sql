{#- Per store, the clients to invite for a personal appointment: attached to the store,
    consented to be contacted by an advisor (phone_opt_in), and most likely to buy because
    an advisor invites them rather than e-mails them (store gain > 0), best first, within
    the store's capacity (advisor_count x advisor_capacity), with the reasons in words. -#}
with

sensitivity as (

    select * from {{ ref('client_store_sensitivity') }}

),

features as (

    select * from {{ ref('int_clienteling__store_features') }}
    where reference_id = 'current'

),

stores as (

    select * from {{ ref('stg_stores') }}

),

candidates as (

    select
        sensitivity.*,
        features.advisor_contacts,
        features.advisor_conversions,
        features.email_open_rate,
        features.emails_sent,
        features.tenure_days,
        stores.store_name,
        stores.advisor_count * stores.advisor_capacity as store_capacity
    from sensitivity
    inner join features
        on sensitivity.customer_id = features.customer_id
    inner join stores
        on sensitivity.home_store_id = stores.store_id
    where sensitivity.phone_opt_in and sensitivity.store_gain > 0

),

ranked as (

    select
        *,
        row_number() over (
            partition by home_store_id order by store_gain desc, customer_id asc
        ) as invitation_rank
    from candidates

),

within_capacity as (

    select * from ranked
    where invitation_rank <= store_capacity

),

with_reasons as (

    select
        home_store_id as store_id,
        store_name,
        invitation_rank,
        customer_id,
        advisor_id,
        phone_opt_in,
        p_buy_after_advisor,
        p_buy_after_email,
        store_gain,
        coalesce(
            nullif(concat_ws(
                '; ',
                case
                    when store_share >= 0.7
                        then 'buys in store ('
                            || cast(round(100 * store_share) as integer) || ' % of purchases)'
                end,
                case
                    when advisor_conversions > 0
                        then 'bought after ' || advisor_conversions || ' of '
                            || advisor_contacts || ' advisor contacts'
                end,
                case
                    when emails_sent >= 5 and email_open_rate < 0.15
                        then 'rarely opens e-mails ('
                            || cast(round(100 * email_open_rate) as integer) || ' %)'
                end,
                case
                    when tenure_days >= 730
                        then 'client for ' || cast(floor(tenure_days / 365) as integer)
                            || ' years'
                end
            ), ''),
            'profile like clients who bought after an advisor''s invitation'
        ) as reasons,
        as_of_date
    from within_capacity

)

select * from with_reasons
