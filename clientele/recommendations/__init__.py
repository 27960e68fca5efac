"""Next-product recommendations: ranking metrics, top-k selection, implicit ALS and a
sequence (LSTM) recommender over purchases and browsing.

Everything works on integer-indexed customers and products (0..n-1) and is vectorised
over customers; the dbt Python models in python_models/recommendations/ do the id mapping.
"""

from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.lstm import LSTMRecommender, build_sequences
from clientele.recommendations.metrics import (
    catalog_coverage,
    evaluate_ranking,
    hit_rate_at_k,
    ndcg_at_k,
    novelty_at_k,
    recall_at_k,
)
from clientele.recommendations.topk import top_k_indices

__all__ = [
    "ImplicitALS",
    "LSTMRecommender",
    "build_sequences",
    "catalog_coverage",
    "evaluate_ranking",
    "hit_rate_at_k",
    "ndcg_at_k",
    "novelty_at_k",
    "recall_at_k",
    "top_k_indices",
]
