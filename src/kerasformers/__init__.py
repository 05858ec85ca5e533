"""kerasformers: Hugging Face transformers checkpoints as Keras 3 models, TensorFlow first."""

__version__ = "0.1.0"

from kerasformers.configuration import AutoConfig, PretrainedConfig
from kerasformers.hub import CheckpointNotFoundError, push_to_local_hub, set_local_hub
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.auto import (
    TFAutoModel,
    TFAutoModelForCausalLM,
    TFAutoModelForMaskedLM,
    TFAutoModelForMultipleChoice,
    TFAutoModelForQuestionAnswering,
    TFAutoModelForSequenceClassification,
    TFAutoModelForTokenClassification,
)
from kerasformers.models.bert import *  # noqa: F401,F403
from kerasformers.models.gpt2 import *  # noqa: F401,F403
from kerasformers.models.llama import *  # noqa: F401,F403
from kerasformers.generation import GenerationConfig, TextStreamer  # noqa: F401
from kerasformers.models.distilbert import *  # noqa: F401,F403
from kerasformers.models.roberta import *  # noqa: F401,F403
from kerasformers.data.collators import (  # noqa: F401
    DataCollatorForLanguageModeling,
    DataCollatorForSeq2Seq,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    DefaultDataCollator,
    default_data_collator,
)
from kerasformers.outputs import ModelOutput
from kerasformers.weights import WeightsError

from kerasformers.tokenization import AutoTokenizer, BatchEncoding, PreTrainedTokenizerFast
from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer  # noqa: E402
from kerasformers.tokenizers_tf import TFAutoTokenizer, TFWordPieceTokenizer  # noqa: E402
from kerasformers.tokenizers_spm_tf import TFSentencePieceTokenizer  # noqa: E402
from kerasformers.tokenizers_bpe_tf import TFByteLevelBPETokenizer  # noqa: E402
