{#- The launch area's rows of model_evaluation, typed. -#}
with

evaluation as (

    select * from {{ ref('int_launch__evaluation') }}

),

typed as (

    select
        {{ evaluation_columns() }}
    from evaluation

)

select * from typed
