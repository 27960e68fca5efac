{#- The tables of the raw contract (clientele/contract.py, documented in
    models/staging/_sources.yml), each with its key: every table has a base_ model that
    validates it, a stg_ model of the rows kept, and a share of quarantine.
    pytests/test_dbt_vars.py checks this list against clientele.contract.TABLES. -#}
{% macro raw_contract_tables() -%}
    {{ return([
        {'name': 'customers', 'key': ['customer_id']},
        {'name': 'products', 'key': ['product_id']},
        {'name': 'collections', 'key': ['collection_id']},
        {'name': 'orders', 'key': ['order_id']},
        {'name': 'order_lines', 'key': ['order_id', 'line_number'], 'key_separator': '#'},
        {'name': 'reviews', 'key': ['review_id', 'order_id']},
        {'name': 'web_events', 'key': ['event_id']},
        {'name': 'email_events', 'key': ['event_id']},
        {'name': 'stores', 'key': ['store_id']},
        {'name': 'stock', 'key': ['store_id', 'product_id']},
        {'name': 'campaign_contacts', 'key': ['campaign_id', 'customer_id']},
    ]) }}
{%- endmacro %}

{#- A row's key as one text (quarantine.record_key): the first key column, then each
    further one after the table's separator ('@' unless said), '?' where it is missing. -#}
{% macro raw_contract_record_key(table) -%}
    {{ table.key[0] }}
    {%- for column in table.key[1:] %} || '{{ table.get('key_separator', '@') }}' || coalesce(cast({{ column }} as varchar), '?')
    {%- endfor %}
{%- endmacro %}
