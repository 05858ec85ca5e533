"""Model cards (kerasformers.modelcard): metadata, the generated section, updates that keep user text."""

import keras
import numpy as np
import pytest
from hub_server import use_hub
from huggingface_hub import ModelCard

import kerasformers
from kerasformers import BertConfig
from kerasformers.modelcard import CARD_BEGIN, CARD_END, build_model_card, history_rows, pipeline_tag_for

TINY_BERT = dict(
    vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64,
)  # fmt: skip


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=2))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-4), metrics=["accuracy"])
    ids = np.random.default_rng(0).integers(4, 99, size=(8, 6)).astype("int32")
    history = model.fit({"input_ids": ids}, ids[:, 0] % 2, epochs=2, batch_size=4, verbose=0)
    model.name_or_path = "org/base-model"  # as from_pretrained("org/base-model") sets it
    return model, history


@pytest.mark.parametrize(
    ("head", "tag"),
    [
        ("TFBertModel", "feature-extraction"),
        ("TFBertForSequenceClassification", "text-classification"),
        ("TFBertForTokenClassification", "token-classification"),
        ("TFBertForQuestionAnswering", "question-answering"),
        ("TFBertForMaskedLM", "fill-mask"),
        ("TFBertForMultipleChoice", "multiple-choice"),
        ("TFBertForPreTraining", None),  # no Hub pipeline for pretraining heads
        ("TFLlamaForCausalLM", "text-generation"),
    ],
)
def test_pipeline_tag_from_the_head(head, tag):
    model = object.__new__(getattr(kerasformers, head))  # only the class matters
    assert pipeline_tag_for(model) == tag


def test_history_rows_accept_history_dict_and_logs():
    assert history_rows({"loss": [0.5, 0.25]}) == [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    assert history_rows([{"loss": 0.5, "epoch": 0}, {"loss": 0.25, "epoch": 1}]) == history_rows({"loss": [0.5, 0.25]})


def test_card_metadata_and_body(trained, tmp_path):
    model, history = trained
    card = build_model_card(
        model,
        "me/clf",
        keras_history=history,
        license="apache-2.0",
        dataset="imdb",
        tags=["demo"],
        plot_folder=tmp_path,
    )
    data = card.data
    assert data.library_name == "kerasformers" and data.base_model == "org/base-model"
    assert data.pipeline_tag == "text-classification" and data.license == "apache-2.0"
    assert data.datasets == ["imdb"] and data.metrics == ["accuracy"] and "demo" in data.tags
    text = str(card)
    assert "learning_rate" in text and "Adam" in text  # the optimizer's hyperparameters
    for epoch in range(2):
        row = f"| {epoch + 1} | {history.history['accuracy'][epoch]:.4f} | {history.history['loss'][epoch]:.4f} |"
        assert row in text
    assert "![Training loss](training_loss.png)" in text
    assert (tmp_path / "training_loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the card parses back with the same metadata
    assert ModelCard(text).data.to_dict() == data.to_dict()


def test_untrained_model_card_has_no_training_section(tmp_path):
    model = kerasformers.TFBertModel(BertConfig(**TINY_BERT))
    text = str(build_model_card(model, "me/plain", plot_folder=tmp_path))
    assert "Training results" not in text and not (tmp_path / "training_loss.png").exists()
    assert "base_model" not in text  # no Hub name to point at


def test_update_keeps_user_sections_and_metadata(trained):
    model, history = trained
    first = str(build_model_card(model, "me/clf", keras_history={"loss": [9.0]}))
    edited = first.replace("---\n", "---\nthumbnail: cat.png\n", 1) + "\n## My notes\n\nKeep me.\n"
    edited = edited.replace(CARD_BEGIN, "Intro by the user.\n\n" + CARD_BEGIN)
    updated = str(build_model_card(model, "me/clf", keras_history=history, existing=edited))
    assert "Keep me." in updated and "Intro by the user." in updated and "thumbnail: cat.png" in updated
    assert "9.0000" not in updated and f"{history.history['loss'][1]:.4f}" in updated
    assert updated.count(CARD_BEGIN) == 1 and updated.count(CARD_END) == 1


def test_push_updates_the_repository_card(hub_server, monkeypatch, tmp_path, trained):
    model, history = trained
    use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    model.push_to_hub("me/card", token="hf_me_write")
    card = hub_server.files("me/card")["README.md"].decode()
    assert "training_loss.png" in hub_server.files("me/card")
    hub_server.add_commit("me/card", {"README.md": (card + "\n## Limitations\n\nUser text.\n").encode()})
    model.push_to_hub("me/card", token="hf_me_write", license="mit", model_card_args={"dataset": "imdb"})
    card = hub_server.files("me/card")["README.md"].decode()
    assert "User text." in card and "license: mit" in card and "- imdb" in card and card.count(CARD_BEGIN) == 1


def test_create_model_card_writes_readme_from_model_history(trained, tmp_path):
    model, history = (
        trained  # 4.57 modeling_tf_utils.py: create_model_card(output_dir, model_name, ...) reads self.history
    )
    model.create_model_card(tmp_path, "me/clf", license="mit", tags="demo")
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.license == "mit" and "demo" in card.data.tags
    assert f"{history.history['loss'][1]:.4f}" in card.text and "- epochs: 2" in card.text
