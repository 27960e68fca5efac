{#- The three dates the send-time model works from (var clienteling_holdout_days = H):
    'fit' learns how a client's history maps to opens on the sends of the year before
    'evaluation'; 'evaluation' is scored on the sends after it (the held-out year);
    'current' (the day after as_of) is what the recommendations use. Features count
    events before cut_date; labels are the sends in [cut_date, labels_until). -#}
with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

current_cut as (

    select
        'current' as cut_name,
        {{ dbt.dateadd('day', 1, 'as_of_date') }} as cut_date,
        cast(null as date) as labels_until
    from as_of

),

evaluation_cut as (

    select
        'evaluation' as cut_name,
        {{ dbt.dateadd('day', 1 - var('clienteling_holdout_days'), 'as_of_date') }} as cut_date,
        {{ dbt.dateadd('day', 1, 'as_of_date') }} as labels_until
    from as_of

),

fit_cut as (

    select
        'fit' as cut_name,
        {{ dbt.dateadd('day', 1 - 2 * var('clienteling_holdout_days'), 'as_of_date') }}
            as cut_date,
        {{ dbt.dateadd('day', 1 - var('clienteling_holdout_days'), 'as_of_date') }}
            as labels_until
    from as_of

),

cuts as (

    select * from fit_cut
    union all
    select * from evaluation_cut
    union all
    select * from current_cut

),

typed as (

    select
        cut_name,
        cast(cut_date as date) as cut_date,
        cast(labels_until as date) as labels_until
    from cuts

)

select * from typed
