{#- Public baseline (repurchase): the intermediate model under an enforced contract. -#}
with

repurchase as (

    select * from {{ ref('int_recommendations__repurchase') }}

)

select * from repurchase
