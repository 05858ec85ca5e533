import transformers
from model_tester import ModelTesterMixin


class TestDistilBert(ModelTesterMixin):
    torch_config = transformers.DistilBertConfig(
        vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64, num_labels=3
    )
    pad_with_pad_token_id = True
    heads = {
        "TFDistilBertModel": "DistilBertModel",
        "TFDistilBertForSequenceClassification": "DistilBertForSequenceClassification",
        "TFDistilBertForTokenClassification": "DistilBertForTokenClassification",
        "TFDistilBertForQuestionAnswering": "DistilBertForQuestionAnswering",
        "TFDistilBertForMaskedLM": "DistilBertForMaskedLM",
        "TFDistilBertForMultipleChoice": "DistilBertForMultipleChoice",
    }


class TestDistilBertSinusoidal(ModelTesterMixin):
    # fixed sin/cos position table (sinusoidal_pos_embds): only the base model and one head
    torch_config = transformers.DistilBertConfig(
        vocab_size=99,
        dim=32,
        n_layers=1,
        n_heads=4,
        hidden_dim=37,
        max_position_embeddings=64,
        sinusoidal_pos_embds=True,
        activation="relu",
    )
    pad_with_pad_token_id = True
    heads = {
        "TFDistilBertModel": "DistilBertModel",
        "TFDistilBertForSequenceClassification": "DistilBertForSequenceClassification",
    }


def test_sinusoidal_position_table_matches_pytorch():
    """A new model with sinusoidal_pos_embds starts from transformers' fixed sin/cos table."""
    import numpy as np

    import kerasformers

    config = TestDistilBertSinusoidal.torch_config
    theirs = transformers.DistilBertModel(config).embeddings.position_embeddings.weight.detach().numpy()
    ours = kerasformers.TFAutoModel.from_config(kerasformers.AutoConfig.for_model("distilbert", **config.to_dict()))
    table = np.asarray(ours.distilbert.embeddings.position_embeddings.embeddings)
    assert np.max(np.abs(table - theirs)) <= 1e-6
