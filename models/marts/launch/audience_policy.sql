{#- The contact policy tuned on past launches and its checks on held-out launches
    (int_launch__audience_policy), typed for BI and the report. -#}
with

policy as (

    select * from {{ ref('int_launch__audience_policy') }}

),

typed as (

    select
        cast(item as varchar) as item,
        cast(item_type as varchar) as item_type,
        -- "value" is a keyword, but it is the published column's name.
        cast(value as double) as value,  -- noqa: RF04
        cast(collection_id as varchar) as collection_id,
        cast(n_clients as bigint) as n_clients,
        cast(notes as varchar) as notes
    from policy

)

select * from typed
