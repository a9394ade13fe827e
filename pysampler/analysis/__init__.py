"""Analysis: the exact evaluator (a sampler's law scored against softmax) and the metrics."""

from .exact import ExactResult, exact_over_sweeps, exact_token_distribution
from .metrics import kl_divergence, total_variation, tv_noise_floor

__all__ = ["ExactResult", "exact_token_distribution", "exact_over_sweeps", "total_variation",
           "kl_divergence", "tv_noise_floor"]
