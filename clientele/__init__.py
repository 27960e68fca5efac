"""clientele: retail customer analytics on dbt + DuckDB."""

__version__ = "0.1.0"
