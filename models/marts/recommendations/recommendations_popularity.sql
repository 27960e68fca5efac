{#- Public baseline (market popularity): the intermediate model under an enforced contract. -#}
with

popularity as (

    select * from {{ ref('int_recommendations__popularity') }}

)

select * from popularity
