{#- Public baseline (market basket): the intermediate model under an enforced contract. -#}
with

item_cooccurrence as (

    select * from {{ ref('int_recommendations__item_cooccurrence') }}

)

select * from item_cooccurrence
