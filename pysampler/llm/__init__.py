"""GPT-2 (any causal LM) generation with the emulated p-bit samplers; the offline model trainer."""

from .generate import (DEFAULT_LM_DIR, GenerationResult, LanguageModel, SampledTokenProcessor,
                       apply_repetition_penalty, check_device, generate, load_lm)

__all__ = ["DEFAULT_LM_DIR", "GenerationResult", "LanguageModel", "SampledTokenProcessor",
           "apply_repetition_penalty", "check_device", "generate", "load_lm"]
