{#- Adjusted Rand Index per group from a contingency table of counts.
    `counts` is a relation with the group columns, label_a, label_b and n
    (customers labelled label_a by one labelling and label_b by the other).
    ARI = (S_ij - E) / (0.5 (S_i + S_j) - E), E = S_i S_j / C(n, 2), where S are
    the sums of C(x, 2) over cells, rows and columns; identical trivial
    partitions give 1 (as scikit-learn). The Python twin is
    clientele.segmentation.stability.ari_from_contingency (pytest checks both
    against sklearn.metrics.adjusted_rand_score). Returns the group
    columns, n_customers and ari. -#}
{% macro segmentation_adjusted_rand_index(counts, group_columns) -%}
    {%- set keys = group_columns | join(', ') -%}
    select
        cells.{{ group_columns | join(', cells.') }},
        cells.n_customers,
        case
            when cells.total_pairs = 0
                or 0.5 * (rows_a.sum_rows + cols_b.sum_cols)
                = rows_a.sum_rows * cols_b.sum_cols / cells.total_pairs
                then 1.0
            else
                (cells.sum_cells - rows_a.sum_rows * cols_b.sum_cols / cells.total_pairs)
                / (
                    0.5 * (rows_a.sum_rows + cols_b.sum_cols)
                    - rows_a.sum_rows * cols_b.sum_cols / cells.total_pairs
                )
        end as ari
    from (
        select
            {{ keys }},
            sum(n) as n_customers,
            sum(n * (n - 1.0) / 2.0) as sum_cells,
            sum(n) * (sum(n) - 1.0) / 2.0 as total_pairs
        from {{ counts }}
        group by {{ keys }}
    ) as cells
    inner join (
        select
            {{ keys }},
            sum(a_count * (a_count - 1.0) / 2.0) as sum_rows
        from (
            select {{ keys }}, label_a, sum(n) as a_count
            from {{ counts }}
            group by {{ keys }}, label_a
        ) as row_totals
        group by {{ keys }}
    ) as rows_a
        using ({{ keys }})
    inner join (
        select
            {{ keys }},
            sum(b_count * (b_count - 1.0) / 2.0) as sum_cols
        from (
            select {{ keys }}, label_b, sum(n) as b_count
            from {{ counts }}
            group by {{ keys }}, label_b
        ) as col_totals
        group by {{ keys }}
    ) as cols_b
        using ({{ keys }})
{%- endmacro %}
