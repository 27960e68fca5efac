"""New-collection launch targeting: Gower appetence, PU lookalike, audience policy.

The dbt Python models in ``python_models/launch/`` are thin glue over this package.
"""

from clientele.launch.appetence import AppetenceScorer
from clientele.launch.gower import GowerSimilarity
from clientele.launch.lookalike import PULookalike
from clientele.launch.policy import AudiencePolicy

__all__ = ["AppetenceScorer", "AudiencePolicy", "GowerSimilarity", "PULookalike"]
