"""transformers' ``generation.tf_utils`` import path: the TF generation mixin and its output classes.

Example:
    >>> from kerasformers.generation.tf_utils import TFGreedySearchDecoderOnlyOutput
    >>> isinstance(model.generate(**batch, return_dict_in_generate=True), TFGreedySearchDecoderOnlyOutput)
    True
"""

from kerasformers.generation import (
    TFBeamSampleDecoderOnlyOutput,
    TFBeamSearchDecoderOnlyOutput,
    TFGenerationMixin,
    TFGreedySearchDecoderOnlyOutput,
    TFSampleDecoderOnlyOutput,
)

__all__ = [
    "TFGenerationMixin",
    "TFGreedySearchDecoderOnlyOutput",
    "TFSampleDecoderOnlyOutput",
    "TFBeamSearchDecoderOnlyOutput",
    "TFBeamSampleDecoderOnlyOutput",
]
