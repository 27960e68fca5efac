"""New-collection launch targeting: Gower appetence, PU lookalike, audience policy.

The dbt Python models in ``python_models/launch/`` are thin glue over
``clientele.launch.pipeline``, the area's one entry module; ``LaunchSettings``
(``clientele.launch.settings``) carries their settings.
"""

from clientele.launch.appetence import AppetenceScorer
from clientele.launch.gower import GowerSimilarity
from clientele.launch.lookalike import PULookalike
from clientele.launch.policy import AudiencePolicy
from clientele.launch.settings import LaunchSettings

__all__ = ["AppetenceScorer", "AudiencePolicy", "GowerSimilarity", "LaunchSettings",
           "PULookalike"]
