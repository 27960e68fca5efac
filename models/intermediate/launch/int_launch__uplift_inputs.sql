{#- What the uplift model learns from and scores: one row per past launch and
    client its campaign targeted (contacted or control, with the outcome), and
    one row per client of the upcoming launch; each with the features as known
    before the launch's cutoff and whether the contact is (or was planned as)
    an advisor's call or visit rather than an e-mail. -#}
with

scores as (

    select * from {{ ref('int_launch__scores') }}

),

early_adopters as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

profiles as (

    select * from {{ ref('int_launch__lookalike_features') }}

),

contacts as (

    select * from {{ ref('stg_campaign_contacts') }}

),

campaign_channels as (

    select
        collection_id,
        customer_id,
        bool_or(contact_channel in ('phone', 'store')) as is_advisor_contact
    from contacts
    group by collection_id, customer_id

),

targeted as (

    -- Past launches: only the clients the campaign targeted (the control group is drawn
    -- among them); the upcoming launch: its whole audience.
    select *
    from scores
    where is_upcoming or (in_campaign and (was_control or was_contacted))

),

joined as (

    select
        targeted.reference_collection_id,
        targeted.customer_id,
        targeted.launch_date,
        targeted.is_upcoming,
        not coalesce(targeted.was_control, false) as is_contacted,
        coalesce(targeted.converted, false) as converted,
        -- The upcoming launch's advisors call the clients who accept calls (advisor_worklist).
        cast(case
            when targeted.is_upcoming then coalesce(profiles.phone_opt_in, false)
            else coalesce(campaign_channels.is_advisor_contact, false)
        end as double) as advisor_contact,
        targeted.early_adopter_score,
        targeted.lookalike_score,
        targeted.appetence,
        early_adopters.adoption_rate,
        early_adopters.recent_adoption_share,
        early_adopters.speed,
        early_adopters.new_season_spend_share,
        early_adopters.full_price_share,
        early_adopters.recency,
        profiles.age,
        profiles.tenure_days,
        profiles.days_since_last_purchase,
        profiles.purchases_per_year,
        profiles.avg_order_value,
        profiles.store_order_share,
        profiles.email_open_rate,
        profiles.email_click_rate,
        profiles.launch_email_open_rate,
        profiles.web_views_180d,
        cast(profiles.has_advisor as double) as has_advisor
    from targeted
    left join early_adopters
        on
            targeted.reference_collection_id = early_adopters.reference_collection_id
            and targeted.customer_id = early_adopters.customer_id
    left join profiles
        on
            targeted.reference_collection_id = profiles.reference_collection_id
            and targeted.customer_id = profiles.customer_id
    left join campaign_channels
        on
            targeted.reference_collection_id = campaign_channels.collection_id
            and targeted.customer_id = campaign_channels.customer_id

)

select * from joined
