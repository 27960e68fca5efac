{#- One row per client who has purchased, for the upcoming collection: the
    three scores, the audience band, the priority (0-100: the client's
    percentile of the score of the policy tuned on past launches,
    int_launch__audience_priority, whose formula lives in
    clientele.launch.policy) with the conversion past launches saw at that
    priority, the uplift of a contact and its segment (int_launch__uplift), the
    client's consents, whether the client meets the contact target
    (var launch_audience_target), the rank, the control flag and the top
    reasons in words. -#}
with

scores as (

    select * from {{ ref('int_launch__scores') }}

),

early_adopters as (

    select * from {{ ref('early_adopter_scores') }}

),

priorities as (

    select * from {{ ref('int_launch__audience_priority') }}

),

purchase_weights as (

    select * from {{ ref('int_launch__purchase_weights') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

uplift as (

    select * from {{ ref('int_launch__uplift') }}

),

policy as (

    select * from {{ ref('int_launch__audience_policy') }}

),

calibration as (

    select
        cast(replace(item, 'conversion_priority_', '') as integer) as priority_band,
        value as expected_conversion
    from policy
    where item_type = 'calibration' and item like 'conversion_priority_%'

),

base_conversion as (

    select max(value) as base_conversion
    from policy
    where item_type = 'calibration' and item = 'conversion_base'

),

upcoming as (

    select *
    from scores
    where is_upcoming

),

purchased as (

    select
        purchase_weights.customer_id,
        purchase_weights.purchase_weight,
        products.category,
        products.material,
        products.color
    from purchase_weights
    inner join upcoming
        on
            purchase_weights.reference_collection_id = upcoming.reference_collection_id
            and purchase_weights.customer_id = upcoming.customer_id
    inner join products
        on purchase_weights.product_id = products.product_id

),

taste_values as (

    select
        customer_id,
        'category' as attribute_name,
        category as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where category is not null
    group by customer_id, category

    union all

    select
        customer_id,
        'material' as attribute_name,
        material as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where material is not null
    group by customer_id, material

    union all

    select
        customer_id,
        'color' as attribute_name,
        color as attribute_value,
        {{ exact_sum('purchase_weight') }} as weight
    from purchased
    where color is not null
    group by customer_id, color

),

taste_top as (

    select
        *,
        row_number() over (partition by customer_id, attribute_name order by weight desc, attribute_value asc) as taste_rank
    from taste_values

),

tastes as (

    select
        customer_id,
        max(case when attribute_name = 'category' then attribute_value end) as top_category,
        max(case when attribute_name = 'material' then attribute_value end) as top_material,
        max(case when attribute_name = 'color' then attribute_value end) as top_color
    from taste_top
    where taste_rank = 1
    group by customer_id

),

prioritised as (

    select
        upcoming.customer_id,
        upcoming.reference_collection_id as collection_id,
        '{{ var("launch_campaign_prefix") }}' || upcoming.reference_collection_id as campaign_id,
        upcoming.lookalike_score,
        upcoming.appetence,
        upcoming.appetence_similarity,
        upcoming.early_adopter_score,
        upcoming.in_pool,
        upcoming.lookalike_band,
        upcoming.appetence_band,
        upcoming.audience_band,
        priorities.priority_score as policy_score,
        early_adopters.early_adopter_reason,
        tastes.top_category,
        tastes.top_material,
        tastes.top_color
    from upcoming
    inner join priorities
        on upcoming.customer_id = priorities.customer_id
    left join early_adopters
        on upcoming.customer_id = early_adopters.customer_id
    left join tastes
        on upcoming.customer_id = tastes.customer_id

),

scaled as (

    select
        *,
        100.0 * {{ launch_percentile('policy_score', 'collection_id') }} as priority_score
    from prioritised

),

with_context as (

    select
        scaled.*,
        calibration.expected_conversion,
        coalesce(calibration.expected_conversion < base_conversion.base_conversion, false)
            as is_weak_contact,
        coalesce(customers.email_opt_in, false) as email_opt_in,
        coalesce(customers.phone_opt_in, false) as phone_opt_in,
        uplift.uplift_score,
        uplift.p_buy_if_contacted,
        uplift.p_buy_if_not_contacted,
        uplift.uplift_segment
    from scaled
    left join customers
        on scaled.customer_id = customers.customer_id
    left join uplift
        on scaled.customer_id = uplift.customer_id
    left join calibration
        on least(floor(scaled.priority_score / 10) * 10, 90) = calibration.priority_band
    cross join base_conversion

),

ranked as (

    select
        *,
        row_number() over (order by priority_score desc, policy_score desc, customer_id asc) as priority_rank,
        {{ launch_hash_unit("customer_id || '|' || campaign_id") }}
        < {{ var('launch_control_share') }} as is_control,
        {% if var('launch_audience_target') == 'uplift' -%}
            coalesce(uplift_score > 0 and uplift_segment != 'do_not_disturb', false) as meets_target,
            row_number() over (
                order by uplift_score desc nulls last, priority_score desc, customer_id asc
            ) as target_rank
        {%- elif var('launch_audience_target') == 'priority' -%}
            priority_score >= {{ var('launch_min_priority') }} as meets_target,
            row_number() over (order by priority_score desc, policy_score desc, customer_id asc) as target_rank
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "var launch_audience_target: '" ~ var('launch_audience_target')
                ~ "' is neither 'priority' nor 'uplift'") }}
        {%- endif %}
    from with_context

),

reasoned as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(collection_id as varchar) as collection_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(lookalike_score as double) as lookalike_score,
        cast(appetence as double) as appetence,
        cast(early_adopter_score as double) as early_adopter_score,
        cast(in_pool as boolean) as in_pool,
        cast(lookalike_band as varchar) as lookalike_band,
        cast(appetence_band as varchar) as appetence_band,
        cast(audience_band as varchar) as audience_band,
        cast(policy_score as double) as policy_score,
        cast(priority_score as double) as priority_score,
        cast(priority_rank as bigint) as priority_rank,
        cast(expected_conversion as double) as expected_conversion,
        cast(is_weak_contact as boolean) as is_weak_contact,
        cast(uplift_score as double) as uplift_score,
        cast(p_buy_if_contacted as double) as p_buy_if_contacted,
        cast(p_buy_if_not_contacted as double) as p_buy_if_not_contacted,
        cast(uplift_segment as varchar) as uplift_segment,
        cast(email_opt_in as boolean) as email_opt_in,
        cast(phone_opt_in as boolean) as phone_opt_in,
        cast(email_opt_in or phone_opt_in as boolean) as is_contactable,
        cast(meets_target as boolean) as meets_target,
        cast(target_rank as bigint) as target_rank,
        cast(is_control as boolean) as is_control,
        cast(concat_ws(
            '; ',
            early_adopter_reason,
            case
                when lookalike_score >= {{ var('launch_lookalike_high') }}
                    then 'profile like the early adopters (lookalike ' || cast(round(lookalike_score, 2) as varchar)
                        || ')'
            end,
            case
                when top_category is not null
                    then 'buys ' || coalesce(top_material || ' ', '') || top_category
                        || coalesce(' in ' || top_color, '')
            end,
            'appetence for the collection ' || cast(round(appetence, 2) as varchar)
            || ' (' || appetence_band || ')'
        ) as varchar) as top_reasons
    from ranked

)

select * from reasoned
