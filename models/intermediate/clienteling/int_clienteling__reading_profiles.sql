{#- One row per cut (int_clienteling__cuts) and client: what the client's history
    before the cut says about when they read: e-mail opens and clicks (mail_h0..7 per
    3-hour block of the day, mail_d0..6 per weekday) and product views and carts (web_h,
    web_d); sends of timing-varied campaigns, opens and expected opens (the campaign's
    open rate in the market) per block of the day the send went out in (sends_h,
    opens_h, expected_h) and per weekday (sends_d, opens_d, expected_d). Each event is
    aggregated once, into the period between two cuts, then summed up to each cut. The
    'current' cut has a row for every client (zeros when there is no history). -#}
{%- set hours = 8 -%}
{%- set days = 7 -%}
{%- set read_columns = [] -%}
{%- for prefix, n in [('mail_h', hours), ('mail_d', days), ('web_h', hours), ('web_d', days)] -%}
    {%- for level in range(n) -%}{%- do read_columns.append(prefix ~ level) -%}{%- endfor -%}
{%- endfor -%}
{%- set send_columns = [] -%}
{%- for prefix, n in [('sends_h', hours), ('opens_h', hours), ('expected_h', hours),
                      ('sends_d', days), ('opens_d', days), ('expected_d', days)] -%}
    {%- for level in range(n) -%}{%- do send_columns.append(prefix ~ level) -%}{%- endfor -%}
{%- endfor -%}
{%- set columns = read_columns + send_columns -%}
{#- Expected opens are fractional: summed exactly (identical rebuilds). -#}
{%- set expected_columns = [] -%}
{%- for column in send_columns if column.startswith('expected_') -%}
    {%- do expected_columns.append(column) -%}
{%- endfor %}
with

cuts as (

    select * from {{ ref('int_clienteling__cuts') }}

),

sends as (

    select * from {{ ref('int_clienteling__sends') }}

),

email_events as (

    select * from {{ ref('fct_email_events') }}

),

web_events as (

    select * from {{ ref('fct_web_events') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

cut_dates as (

    select
        max(case when cut_name = 'fit' then cut_date end) as fit_date,
        max(case when cut_name = 'evaluation' then cut_date end) as evaluation_date,
        max(case when cut_name = 'current' then cut_date end) as current_cut_date
    from cuts

),

reading_events as (

    select
        customer_id,
        occurred_at,
        1 as is_mail
    from email_events
    where event_type in ('open', 'click') and customer_id is not null
    union all
    select
        customer_id,
        occurred_at,
        0 as is_mail
    from web_events
    where customer_id is not null

),

periods as (

    {#- 0: before the fit cut, 1: between fit and evaluation, 2: after evaluation. -#}
    select
        0 as period,
        cast(null as date) as period_from,
        fit_date as period_until
    from cut_dates
    union all
    select
        1 as period,
        fit_date as period_from,
        evaluation_date as period_until
    from cut_dates
    union all
    select
        2 as period,
        evaluation_date as period_from,
        current_cut_date as period_until
    from cut_dates

),

reads_by_period as (

    select
        reading_events.customer_id,
        periods.period,
        {{ pivot_counts(hour_block('reading_events.occurred_at'), hours, 'mail_h',
                        'reading_events.is_mail = 1') }},
        {{ pivot_counts(weekday_index('reading_events.occurred_at'), days, 'mail_d',
                        'reading_events.is_mail = 1') }},
        {{ pivot_counts(hour_block('reading_events.occurred_at'), hours, 'web_h',
                        'reading_events.is_mail = 0') }},
        {{ pivot_counts(weekday_index('reading_events.occurred_at'), days, 'web_d',
                        'reading_events.is_mail = 0') }}
    from reading_events
    inner join periods
        on
            cast(reading_events.occurred_at as date) < periods.period_until
            and (
                periods.period_from is null
                or cast(reading_events.occurred_at as date) >= periods.period_from
            )
    group by reading_events.customer_id, periods.period

),

sends_by_period as (

    select
        sends.customer_id,
        periods.period,
        {{ pivot_counts('sends.send_hour_block', hours, 'sends_h') }},
        {{ pivot_counts('sends.send_hour_block', hours, 'opens_h', 'sends.is_opened') }},
        {{ pivot_sums('sends.send_hour_block', hours, 'sends.campaign_open_rate', 'expected_h') }},
        {{ pivot_counts('sends.send_weekday', days, 'sends_d') }},
        {{ pivot_counts('sends.send_weekday', days, 'opens_d', 'sends.is_opened') }},
        {{ pivot_sums('sends.send_weekday', days, 'sends.campaign_open_rate', 'expected_d') }}
    from sends
    inner join periods
        on
            sends.send_date < periods.period_until
            and (periods.period_from is null or sends.send_date >= periods.period_from)
    where sends.is_timing_varied
    group by sends.customer_id, periods.period

),

client_periods as (

    select
        customer_id,
        period
    from reads_by_period
    union
    select
        customer_id,
        period
    from sends_by_period

),

by_period as (

    select
        client_periods.customer_id,
        client_periods.period,
        {{ column_list(read_columns, 'coalesce(reads_by_period.@, 0) as @') }},
        {{ column_list(send_columns, 'coalesce(sends_by_period.@, 0) as @') }}
    from client_periods
    left join reads_by_period
        on
            client_periods.customer_id = reads_by_period.customer_id
            and client_periods.period = reads_by_period.period
    left join sends_by_period
        on
            client_periods.customer_id = sends_by_period.customer_id
            and client_periods.period = sends_by_period.period

),

cut_periods as (

    {#- A cut sums the periods before it: fit = 0, evaluation = 0-1, current = 0-2. -#}
    select
        cut_name,
        case cut_name when 'fit' then 0 when 'evaluation' then 1 else 2 end as last_period
    from cuts

),

histories as (

    select
        cut_periods.cut_name,
        by_period.customer_id,
        {{ column_sums(columns, 'by_period', expected_columns) }}
    from cut_periods
    inner join by_period
        on cut_periods.last_period >= by_period.period
    group by cut_periods.cut_name, by_period.customer_id

),

current_clients as (

    {#- Every client gets a current row; one without history reads like the market. -#}
    select
        'current' as cut_name,
        customers.customer_id,
        {{ column_list(columns, 'coalesce(histories.@, 0) as @') }}
    from customers
    left join histories
        on
            customers.customer_id = histories.customer_id
            and histories.cut_name = 'current'

),

past_clients as (

    select * from histories
    where cut_name <> 'current'

),

profiles as (

    select * from past_clients
    union all
    select * from current_clients

),

with_market as (

    select
        profiles.*,
        customers.country
    from profiles
    inner join customers
        on profiles.customer_id = customers.customer_id

)

select * from with_market
