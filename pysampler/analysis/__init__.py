"""Analysis: the exact evaluator (a sampler's law scored against softmax), the evaluator at any V
(exact within a sampler's limit, Monte Carlo with the noise floor beyond it) and the metrics."""

from .evaluate import RowEvaluation, evaluate_row
from .exact import ExactResult, exact_over_sweeps, exact_token_distribution
from .metrics import kl_divergence, total_variation, tv_noise_floor

__all__ = ["ExactResult", "exact_token_distribution", "exact_over_sweeps", "RowEvaluation",
           "evaluate_row", "total_variation", "kl_divergence", "tv_noise_floor"]
