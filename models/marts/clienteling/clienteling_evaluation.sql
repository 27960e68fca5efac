{#- The clienteling area's rows of model_evaluation: send time on held-out sends, drive to
    store on held-out campaigns. -#}
with

send_time as (

    select {{ evaluation_columns() }}
    from {{ ref('int_clienteling__send_time_evaluation') }}

),

store as (

    select {{ evaluation_columns() }}
    from {{ ref('int_clienteling__store_evaluation') }}

),

evaluations as (

    select * from send_time
    union all
    select * from store

)

select * from evaluations
