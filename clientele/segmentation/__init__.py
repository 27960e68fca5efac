"""Customer segmentation: feature scaling, clustering with k chosen by silhouette and
stability, plain-language cluster descriptions, and the Adjusted Rand Index used to
measure how fast segments drift."""

from clientele.segmentation.clustering import (
    CLUSTER_FEATURES,
    CustomerFeatureScaler,
    SegmentClusterer,
)
from clientele.segmentation.profiles import describe_clusters
from clientele.segmentation.stability import (
    adjusted_rand_index,
    ari_from_contingency,
    contingency_table,
)

__all__ = [
    "CLUSTER_FEATURES",
    "CustomerFeatureScaler",
    "SegmentClusterer",
    "adjusted_rand_index",
    "ari_from_contingency",
    "contingency_table",
    "describe_clusters",
]
