"""Text generation: GenerationConfig, logits processors, streamers and the XLA-compiled generate()."""

from kerasformers.generation.configuration_utils import GenerationConfig
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
from kerasformers.generation.streamers import BaseStreamer, TextStreamer, TokenCollector
from kerasformers.generation.utils import GenerationMixin, prompt_bucket
