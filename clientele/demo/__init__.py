"""The demo brand: a synthetic luxury house selling in six markets, in stores and online.

`generate` writes the eleven raw-contract tables and, in a separate folder that
no dbt model reads, the latent truth that drove them (early adopters, tastes,
replenishment routines, churn, best-sellers, next-in-sequence products), so
every model of the project can be checked against what really happened.
"""

from clientele.demo.brand import FIGURE_RANGES, format_summary, generate

__all__ = ["FIGURE_RANGES", "format_summary", "generate"]
