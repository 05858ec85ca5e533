from kerasformers.models.auto import register_auto_classes
from kerasformers.models.marian.configuration_marian import MarianConfig
from kerasformers.models.marian.modeling_marian import TFMarianModel, TFMarianMTModel, TFMarianPreTrainedModel
from kerasformers.models.marian.tokenization_marian import MarianTokenizer

register_auto_classes("marian", base=TFMarianModel, seq2seq_lm=TFMarianMTModel, lm_head=TFMarianMTModel)
