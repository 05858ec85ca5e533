"""Text generation: GenerationConfig, logits processors (transformers' PyTorch-side and TF-side
names), stopping criteria, streamers, the XLA-compiled generate() and the decode loop it runs
(DecodeSettings, build_decode_loop), which exports reuse.

``__all__`` lists the names that are also top-level ``kerasformers.X``, as in transformers.
"""

from kerasformers.generation.configuration_utils import GenerationConfig
from kerasformers.generation.decoding import BeamState, DecodeSettings, build_decode_loop, choose_tokens
from kerasformers.generation.logits_process import (
    DecodeContext,
    ForcedBOSTokenLogitsProcessor,
    ForcedEOSTokenLogitsProcessor,
    LogitsProcessor,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    MinPLogitsWarper,
    NoBadWordsLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    build_logits_processors,
)
from kerasformers.generation.stopping_criteria import (
    EosTokenCriteria,
    MaxLengthCriteria,
    MaxTimeCriteria,
    StoppingCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
)
from kerasformers.generation.streamers import BaseStreamer, TextIteratorStreamer, TextStreamer, TokenCollector
from kerasformers.generation.tf_logits_process import (
    TFForcedBOSTokenLogitsProcessor,
    TFForcedEOSTokenLogitsProcessor,
    TFForceTokensLogitsProcessor,
    TFLogitsProcessor,
    TFLogitsProcessorList,
    TFLogitsWarper,
    TFMinLengthLogitsProcessor,
    TFNoBadWordsLogitsProcessor,
    TFNoRepeatNGramLogitsProcessor,
    TFRepetitionPenaltyLogitsProcessor,
    TFSuppressTokensAtBeginLogitsProcessor,
    TFSuppressTokensLogitsProcessor,
    TFTemperatureLogitsWarper,
    TFTopKLogitsWarper,
    TFTopPLogitsWarper,
)
from kerasformers.generation.utils import (
    GenerateBeamDecoderOnlyOutput,
    GenerateDecoderOnlyOutput,
    GenerationMixin,
    TFBeamSampleDecoderOnlyOutput,
    TFBeamSearchDecoderOnlyOutput,
    TFGenerationMixin,
    TFGreedySearchDecoderOnlyOutput,
    TFSampleDecoderOnlyOutput,
    prompt_bucket,
)

# Internals importable from here but not top-level: DecodeSettings, DecodeContext, BeamState,
# build_decode_loop, build_logits_processors, choose_tokens, prompt_bucket, TokenCollector.
__all__ = [
    "GenerationConfig",
    "GenerationMixin",
    "TFGenerationMixin",
    # outputs
    "GenerateDecoderOnlyOutput",
    "GenerateBeamDecoderOnlyOutput",
    "TFGreedySearchDecoderOnlyOutput",
    "TFSampleDecoderOnlyOutput",
    "TFBeamSearchDecoderOnlyOutput",
    "TFBeamSampleDecoderOnlyOutput",
    # streamers
    "BaseStreamer",
    "TextStreamer",
    "TextIteratorStreamer",
    # stopping criteria
    "StoppingCriteria",
    "StoppingCriteriaList",
    "MaxLengthCriteria",
    "MaxTimeCriteria",
    "EosTokenCriteria",
    "StopStringCriteria",
    # logits processors (transformers' PyTorch-side names, TF ops here)
    "LogitsProcessor",
    "LogitsProcessorList",
    "ForcedBOSTokenLogitsProcessor",
    "ForcedEOSTokenLogitsProcessor",
    "MinLengthLogitsProcessor",
    "MinNewTokensLengthLogitsProcessor",
    "MinPLogitsWarper",
    "NoBadWordsLogitsProcessor",
    "NoRepeatNGramLogitsProcessor",
    "RepetitionPenaltyLogitsProcessor",
    "TemperatureLogitsWarper",
    "TopKLogitsWarper",
    "TopPLogitsWarper",
    # TF-side transformers' processors
    "TFLogitsProcessor",
    "TFLogitsWarper",
    "TFLogitsProcessorList",
    "TFTemperatureLogitsWarper",
    "TFTopKLogitsWarper",
    "TFTopPLogitsWarper",
    "TFMinLengthLogitsProcessor",
    "TFRepetitionPenaltyLogitsProcessor",
    "TFNoBadWordsLogitsProcessor",
    "TFNoRepeatNGramLogitsProcessor",
    "TFForcedBOSTokenLogitsProcessor",
    "TFForcedEOSTokenLogitsProcessor",
    "TFSuppressTokensAtBeginLogitsProcessor",
    "TFSuppressTokensLogitsProcessor",
    "TFForceTokensLogitsProcessor",
]
