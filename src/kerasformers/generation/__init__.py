"""Text generation: GenerationConfig, logits processors, streamers, the XLA-compiled generate()
and the decode loop it runs (DecodeSettings, build_decode_loop), which exports reuse."""

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
from kerasformers.generation.streamers import BaseStreamer, TextStreamer, TokenCollector
from kerasformers.generation.utils import GenerationMixin, prompt_bucket
