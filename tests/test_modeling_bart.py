"""BART: every head against PyTorch transformers 5.23 (the common mixin), labels shifted right, the
cached decoder of the seq2seq generate protocol, and what save_pretrained writes."""

import json

import numpy as np
import pytest
import torch
import transformers
from model_tester import ModelTesterMixin, max_abs_diff, torch_outputs

import kerasformers.models.bart as bart

SEQ2SEQ_GROUPS = (
    "decoder_hidden_states",
    "decoder_attentions",
    "cross_attentions",
    "encoder_hidden_states",
    "encoder_attentions",
)


def compare_seq2seq_outputs(ours, theirs, atol):
    """Every tensor output and every encoder/decoder hidden state and attention map (self and cross)."""
    skip = ("loss", "past_key_values", *SEQ2SEQ_GROUPS)
    keys = [k for k in ours if k not in skip]
    assert keys, "nothing to compare"
    for key in keys:
        assert max_abs_diff(ours[key], theirs[key].numpy()) <= atol, key
    for group in SEQ2SEQ_GROUPS:
        if ours.get(group) is not None:
            assert len(ours[group]) == len(theirs[group]), group
            for i, (a, b) in enumerate(zip(ours[group], theirs[group])):
                assert np.shape(a) == tuple(b.shape), f"{group}[{i}]"
                assert max_abs_diff(a, b.numpy()) <= atol, f"{group}[{i}]"


def check_cached_decoding(model, torch_model, inputs, decoder_input_ids, atol):
    """The generate protocol (generation/seq2seq.py) token by token equals PyTorch's full forward pass.

    The encoder runs once, init_cache computes the cross keys/values, then each decoder call writes
    one slot of a static cache of 12 slots; slots not yet written are masked.
    """
    batch, steps = decoder_input_ids.shape
    encoder = model.get_encoder()(inputs["input_ids"], attention_mask=inputs["attention_mask"], training=False)
    max_length = 12
    cache = model.init_cache(batch, max_length, encoder.last_hidden_state)
    slots = np.zeros((batch, max_length), np.int32)
    logits = []
    for step in range(steps):
        slots[:, step] = 1
        out = model(
            decoder_input_ids=decoder_input_ids[:, step : step + 1],
            decoder_attention_mask=slots.copy(),
            encoder_outputs=(encoder.last_hidden_state,),
            attention_mask=inputs["attention_mask"],
            past_key_values=cache,
            cache_position=np.int32(step),
            logits_to_keep=1,
        )
        cache = out.past_key_values
        assert len(cache) == len(model.get_decoder().layers) and all(len(layer) == 4 for layer in cache)
        logits.append(np.asarray(out.logits)[:, -1])
    theirs = torch_outputs(torch_model, {**inputs, "decoder_input_ids": decoder_input_ids}).logits.numpy()
    assert max_abs_diff(np.stack(logits, axis=1), theirs) <= atol


BEAM = dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, early_stopping=True)


def check_generate_token_identical(model, torch_model, inputs, **options):
    """generate() (one XLA program) gives exactly transformers' generate() ids."""
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    ours = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, **options).numpy()
    with torch.no_grad():
        theirs = torch_model.generate(
            input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=12, **options
        ).numpy()
    np.testing.assert_array_equal(ours, theirs)
    return ours


def generate_cases(default):
    """(strategy, batch) cases; all but ``default`` are slow (an XLA compile each, ~5-20 s here)."""
    return [
        case if case == default else pytest.param(*case, marks=pytest.mark.slow)
        for case in [("greedy", 1), ("beam", 1), ("greedy", 4), ("beam", 4)]
    ]


class Seq2SeqTesterMixin(ModelTesterMixin):
    """The common mixin for encoder-decoder heads: seq2seq output groups, labels for the LM head."""

    module = bart
    target_length = 7
    built_not_saved: tuple[str, ...] = ()  # tensors PyTorch rebuilds itself when a checkpoint lacks them

    def our_class(self, head):
        return getattr(self.module, head)

    def make_labels(self, head, inputs, num_labels):
        if head.endswith(("ForConditionalGeneration", "MTModel")):
            rng = np.random.RandomState(1)
            vocab = getattr(self.torch_config, "decoder_vocab_size", None) or self.torch_config.vocab_size
            labels = rng.randint(3, vocab, (inputs["input_ids"].shape[0], self.target_length))
            labels[0, 5:] = -100  # ignored positions, as DataCollatorForSeq2Seq pads labels
            return {"labels": labels}
        return super().make_labels(head, inputs, num_labels)

    def test_matches_pytorch(self, head, torch_checkpoints):
        folder, torch_model = torch_checkpoints[head]
        model, info = self.our_class(head).from_pretrained(folder, output_loading_info=True)
        assert info["missing_keys"] == [] and info["mismatched_keys"] == [] and info["unexpected_keys"] == []
        inputs = self.make_inputs(head)
        ours = model(inputs, output_hidden_states=True, output_attentions=True)
        theirs = torch_outputs(torch_model, inputs, output_hidden_states=True, output_attentions=True)
        assert len(ours["decoder_hidden_states"]) == self.torch_config.decoder_layers + 1
        compare_seq2seq_outputs(ours, theirs, self.atol)

    def test_saved_by_us_loads_in_pytorch(self, head, tmp_path):
        torch_config = self.config_for(head)
        config = self.module.__dict__[type(torch_config).__name__].from_dict(torch_config.to_dict())
        model = self.our_class(head)(config)
        model.build_with_dummy_inputs()
        if hasattr(model, "final_logits_bias"):  # give the bias values, so that PyTorch must read it
            model.set_bias({"final_logits_bias": np.random.RandomState(0).randn(*model.final_logits_bias.shape)})
        model.save_pretrained(tmp_path)
        torch_model, info = getattr(transformers, self.heads[head]).from_pretrained(
            tmp_path, output_loading_info=True, attn_implementation="eager"
        )
        missing = [k for k in info["missing_keys"] if not any(k.endswith(ok) for ok in self.built_not_saved)]
        assert not missing and not info["mismatched_keys"] and not info["unexpected_keys"], info
        inputs = self.make_inputs(head)
        compare_seq2seq_outputs(
            model(inputs, output_hidden_states=True, output_attentions=True),
            torch_outputs(torch_model.eval(), inputs, output_hidden_states=True, output_attentions=True),
            self.atol,
        )

    @pytest.mark.slow  # ~60 s of XLA compilation on a loaded 2-core machine; the eager fit runs by default
    def test_fit_with_default_loss_xla(self, head, torch_checkpoints):
        super().test_fit_with_default_loss_xla(head, torch_checkpoints)

    def fit_heads(self):
        # fit() on the LM head; the other heads' losses are checked against PyTorch and under XLA
        return self.trainable_heads()[:1]

    # Suite budget (CONTRIBUTING.md): the checks below run on the heads whose code differs; the
    # others share it (the .keras round trip and functional use are generic model plumbing).
    one_head_checks = ("test_keras_file_round_trip", "test_usable_as_layer_in_functional_model")
    xla_heads: tuple[str, ...] = ()
    xla_fit = True

    @pytest.fixture(autouse=True)
    def _budget(self, request):
        head = request.node.callspec.params.get("head") if hasattr(request.node, "callspec") else None
        name = request.node.originalname
        if head is not None and name in self.one_head_checks and head != next(iter(self.heads)):
            pytest.skip("generic plumbing: checked on this architecture's first head")
        if head is not None and name == "test_xla_matches_eager" and head not in self.xla_heads:
            pytest.skip("XLA is checked on the heads whose code differs (LM head, <eos> pooling)")
        way = request.node.callspec.params.get("way") if hasattr(request.node, "callspec") else None
        if way is not None and way != "y":
            pytest.skip("labels in x and from tf.data route through the same generic code as on BERT/GPT-2")
        if name == "test_fit_with_default_loss_xla" and not self.xla_fit:
            pytest.skip("the seq2seq LM loss is fit under XLA on BART; this head's XLA loss is checked eagerly vs XLA")


class TestBart(Seq2SeqTesterMixin):
    torch_config = transformers.BartConfig(
        vocab_size=99,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=64,
        scale_embedding=True,
        num_labels=3,
    )
    xla_heads = ("TFBartForConditionalGeneration", "TFBartForSequenceClassification")
    heads = {
        "TFBartForConditionalGeneration": "BartForConditionalGeneration",
        "TFBartModel": "BartModel",
        "TFBartForSequenceClassification": "BartForSequenceClassification",
        "TFBartForQuestionAnswering": "BartForQuestionAnswering",
    }

    def make_inputs(self, head, seed=0):
        # as BART's tokenizer: <s> ... </s> then <pad>; every row ends with one </s> (the classifier reads it)
        inputs = super().make_inputs(head, seed)
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        config = self.torch_config
        ids[:, 0] = config.bos_token_id
        ends = mask.sum(axis=1) - 1
        ids[np.arange(len(ids)), ends] = config.eos_token_id
        ids[mask == 0] = config.pad_token_id
        return inputs

    @pytest.fixture(scope="class")
    def torch_checkpoints(self, tmp_path_factory):
        """As the mixin's, with a random final_logits_bias (zeros would not show it is read)."""
        folders = {}
        for ours, theirs in self.heads.items():
            torch.manual_seed(0)
            model = getattr(transformers, theirs)(self.config_for(ours)).eval()
            model.set_attn_implementation("eager")
            if hasattr(model, "final_logits_bias"):
                model.final_logits_bias.normal_()
            folder = tmp_path_factory.mktemp(theirs)
            model.save_pretrained(folder)
            folders[ours] = (folder, model)
        return folders

    def test_labels_shift_right_as_transformers(self, torch_checkpoints):
        """No decoder_input_ids: labels shift right (-100 -> pad); the loss equals PyTorch's."""
        folder, torch_model = torch_checkpoints["TFBartForConditionalGeneration"]
        model = bart.TFBartForConditionalGeneration.from_pretrained(folder)
        inputs = self.make_inputs("TFBartForConditionalGeneration")
        labels = self.make_labels("TFBartForConditionalGeneration", inputs, 3)["labels"]
        expected = transformers.models.bart.modeling_bart.shift_tokens_right(torch.tensor(labels), 1, 2).numpy()
        np.testing.assert_array_equal(np.asarray(bart.modeling_bart.shift_tokens_right(labels, 1, 2)), expected)
        ours = model({**inputs, "labels": labels})
        theirs = torch_outputs(torch_model, {**inputs, "labels": labels})
        assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= self.atol
        assert abs(float(ours.loss) - theirs.loss.item()) <= self.atol

    def test_pad_labels_are_ignored_as_tensorflow_bart(self, torch_checkpoints):
        """transformers 4.57 modeling_tf_bart.py: labels equal to pad_token_id count as -100 in the loss."""
        folder, torch_model = torch_checkpoints["TFBartForConditionalGeneration"]
        model = bart.TFBartForConditionalGeneration.from_pretrained(folder)
        inputs = self.make_inputs("TFBartForConditionalGeneration")
        labels = self.make_labels("TFBartForConditionalGeneration", inputs, 3)["labels"]
        padded = np.where(labels == -100, self.torch_config.pad_token_id, labels)
        theirs = torch_outputs(torch_model, {**inputs, "labels": labels}).loss.item()  # -100 where we have pad
        assert abs(float(model({**inputs, "labels": padded}).loss) - theirs) <= self.atol

    def test_cached_decoding_matches_pytorch(self, torch_checkpoints):
        folder, torch_model = torch_checkpoints["TFBartForConditionalGeneration"]
        model = bart.TFBartForConditionalGeneration.from_pretrained(folder)
        inputs = self.make_inputs("TFBartForConditionalGeneration")
        decoder_input_ids = np.random.RandomState(4).randint(3, 99, (3, 5))
        decoder_input_ids[:, 0] = self.torch_config.decoder_start_token_id
        check_cached_decoding(model, torch_model, inputs, decoder_input_ids, self.atol)

    @pytest.mark.parametrize("strategy, batch", generate_cases(default=("beam", 4)))
    def test_generate_token_identical(self, torch_checkpoints, strategy, batch):
        """Greedy and beam search, forced_bos_token_id (as bart-large-cnn) and the config's forced_eos_token_id."""
        folder, torch_model = torch_checkpoints["TFBartForConditionalGeneration"]
        model = bart.TFBartForConditionalGeneration.from_pretrained(folder)
        inputs = {k: v[:batch] for k, v in self.make_inputs("TFBartForConditionalGeneration", seed=batch).items()}
        if batch > 1:
            inputs = {k: np.concatenate([v, v[:1]]) for k, v in inputs.items()}  # 4 rows, two of them padded
        out = check_generate_token_identical(
            model, torch_model, inputs, forced_bos_token_id=0, **(BEAM if strategy == "beam" else {})
        )
        assert (out[:, 0] == self.torch_config.decoder_start_token_id).all() and (out[:, 1] == 0).all()

    def test_save_pretrained_writes_one_shared_embedding(self, torch_checkpoints, tmp_path):
        """The tied embeddings are saved once (model.shared.weight) with final_logits_bias, as PyTorch saves."""
        from safetensors import safe_open

        model = bart.TFBartForConditionalGeneration.from_pretrained(
            torch_checkpoints["TFBartForConditionalGeneration"][0]
        )
        model.save_pretrained(tmp_path)
        with safe_open(tmp_path / "model.safetensors", "np") as ours:
            names = set(ours.keys())
        with safe_open(torch_checkpoints["TFBartForConditionalGeneration"][0] / "model.safetensors", "np") as theirs:
            assert names == set(theirs.keys())
        assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "bart"

    def test_resize_token_embeddings_resizes_final_logits_bias(self, torch_checkpoints):
        """The bias keeps its values and grows with zeros, as transformers' _resize_final_logits_bias."""
        folder, _ = torch_checkpoints["TFBartForConditionalGeneration"]
        model = bart.TFBartForConditionalGeneration.from_pretrained(folder)
        torch_model = transformers.BartForConditionalGeneration.from_pretrained(folder)
        model.resize_token_embeddings(104)
        torch_model.resize_token_embeddings(104)
        assert model.config.vocab_size == 104 and model.final_logits_bias.shape == (1, 104)
        np.testing.assert_array_equal(np.asarray(model.final_logits_bias), torch_model.final_logits_bias.numpy())
        assert model(input_ids=np.array([[0, 5, 103, 2]])).logits.shape[-1] == 104

    def test_classifier_refuses_rows_without_eos(self, torch_checkpoints):
        model = bart.TFBartForSequenceClassification.from_pretrained(
            torch_checkpoints["TFBartForSequenceClassification"][0]
        )
        inputs = self.make_inputs("TFBartForSequenceClassification")
        inputs["input_ids"][0][inputs["input_ids"][0] == self.torch_config.eos_token_id] = 5
        with pytest.raises(bart.modeling_bart.InvalidInputError, match="eos"):
            model(inputs)
