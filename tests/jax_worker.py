"""Run with KERAS_BACKEND=jax by tests/test_jax_backend.py: checks on the JAX backend, one JSON line out.

``python tests/jax_worker.py <folder> <check> [<check> ...]`` where a check is ``forward`` (a
few tiny heads: every output and the default loss against PyTorch transformers, whose values
are computed here from the same weights), ``fit`` (compile(jit_compile=True) + fit on the
default loss), ``generate`` (greedy decoding, beam search and the processors against
transformers' ``generate``; sampling's seed and top-k / top-p properties), ``seq2seq`` (T5 /
BART generate() against transformers), ``tf_data`` (prepare_tf_dataset + fit) or ``save``
(save_pretrained read back by us and by PyTorch; the TensorFlow-only pieces refused). The test
process itself stays on TensorFlow and never imports jax.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from model_tester import max_abs_diff, torch_outputs  # noqa: E402
from test_gpt2 import TestGPT2  # noqa: E402
from test_llama import TestLlama  # noqa: E402
from test_modeling_bart import TestBart  # noqa: E402
from test_modeling_bert import TestBert  # noqa: E402
from test_modeling_distilbert import TestDistilBert  # noqa: E402
from test_modeling_roberta import TestRoberta  # noqa: E402
from test_modeling_t5 import TestT5  # noqa: E402

import kerasformers  # noqa: E402
from kerasformers.generation.jax_decoding import jax_greedy_generate  # noqa: E402

# (tester, our head): one head per encoder family, each with a loss
FORWARD_CASES = [
    (TestBert, "TFBertForSequenceClassification"),
    (TestRoberta, "TFRobertaForMaskedLM"),
    (TestDistilBert, "TFDistilBertForQuestionAnswering"),
]
FIT_CASE = (TestDistilBert, "TFDistilBertForSequenceClassification")
GENERATE_CASES = [(TestLlama, "TFLlamaForCausalLM"), (TestGPT2, "TFGPT2LMHeadModel")]
# encoder-decoder generate(): greedy on T5, beams on BART (a right-padded source row each)
SEQ2SEQ_CASES = [
    (TestT5, "TFT5ForConditionalGeneration", {}),
    (TestBart, "TFBartForConditionalGeneration", {"num_beams": 2, "num_return_sequences": 2}),
]


def check_seq2seq(folder) -> dict:
    """Encoder-decoder generate() on JAX (the encoder once, the decoder in jax.lax.while_loop) vs transformers."""
    results = {}
    for tester_class, head, settings in SEQ2SEQ_CASES:
        tester = tester_class()
        torch_model, path = saved_torch_model(tester, head, folder)
        with torch.no_grad():  # a wider lm head: tiny T5's greedy tokens are otherwise all pad
            torch_model.get_output_embeddings().weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(0))
        torch_model.save_pretrained(path)
        model = getattr(kerasformers, head).from_pretrained(path)
        ids = np.random.RandomState(2).randint(4, tester.torch_config.vocab_size, (2, 7))
        mask = np.ones_like(ids)
        mask[1, 5:] = 0  # a right-padded source row
        ids[1, 5:] = tester.torch_config.pad_token_id
        ours = np.asarray(model.generate(ids, attention_mask=mask, max_new_tokens=6, **settings))
        with torch.no_grad():
            theirs = torch_model.generate(
                torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=6, do_sample=False, **settings
            ).numpy()
        results[head] = {"ours": ours.tolist(), "theirs": theirs.tolist(), "path": path, "ids": ids.tolist()}
    return results


def saved_torch_model(tester, head, folder):
    """PyTorch transformers' model for ``head`` (seed 0, eager attention), saved under ``folder``."""
    torch.manual_seed(0)
    model = getattr(transformers, tester.heads[head])(tester.config_for(head)).eval()
    model.set_attn_implementation("eager")
    path = os.path.join(folder, head)
    model.save_pretrained(path)
    return model, path


def output_differences(ours, theirs) -> dict[str, float]:
    """Largest difference of each tensor output, hidden state and attention map (keys as the mixin)."""
    diffs = {
        k: max_abs_diff(ours[k], theirs[k].numpy()) for k in ours if k not in ("loss", "hidden_states", "attentions")
    }
    for group in ("hidden_states", "attentions"):
        for i, (a, b) in enumerate(zip(ours[group], theirs[group], strict=True)):
            diffs[f"{group}[{i}]"] = max_abs_diff(a, b.numpy())
    return diffs


def check_forward(folder) -> dict:
    results = {}
    for tester_class, head in FORWARD_CASES:
        tester = tester_class()
        torch_model, path = saved_torch_model(tester, head, folder)
        model = getattr(kerasformers, head).from_pretrained(path)
        inputs = tester.make_inputs(head)
        labels = tester.make_labels(head, inputs, getattr(model.config, "num_labels", 2))
        ours = model(inputs, output_hidden_states=True, output_attentions=True)
        theirs = torch_outputs(torch_model, inputs, output_hidden_states=True, output_attentions=True)
        their_loss = tester.torch_loss(
            head, torch_outputs(torch_model, {**inputs, **tester.torch_labels(head, labels)})
        )
        results[head] = {
            "diffs": output_differences(ours, theirs),
            "loss": float(model({**inputs, **labels}).loss),
            "torch_loss": their_loss,
            "array_type": type(ours["logits"] if "logits" in ours else ours["start_logits"]).__module__,
        }
    return results


def check_fit(folder) -> dict:
    tester_class, head = FIT_CASE
    tester = tester_class()
    _, path = saved_torch_model(tester, head, folder)
    model = getattr(kerasformers, head).from_pretrained(path)
    inputs = tester.make_inputs(head)
    labels = tester.make_labels(head, inputs, model.config.num_labels)
    before = float(model({**inputs, **labels}).loss)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    evaluated = model.evaluate(inputs, labels["labels"], verbose=0)
    history = model.fit(inputs, labels["labels"], epochs=4, batch_size=3, verbose=0)
    after = float(model({**inputs, **labels}).loss)
    predicted = model.predict(inputs, verbose=0)
    return {
        "head": head,
        "jit_compile": bool(model.jit_compile),
        "loss_before": before,
        "evaluate_before": float(evaluated),
        "history": [float(v) for v in history.history["loss"]],
        "loss_after": after,
        "predict_matches_call": max_abs_diff(predicted["logits"], model(inputs)["logits"]),
    }


def check_generate(folder) -> dict:
    """Greedy decoding of left-padded prompts: ours (jax.lax.while_loop) and transformers' tokens."""
    results = {}
    for tester_class, head in GENERATE_CASES:
        tester = tester_class()
        torch_model, path = saved_torch_model(tester, head, folder)
        model = getattr(kerasformers, head).from_pretrained(path)
        ids = np.random.RandomState(1).randint(3, tester.torch_config.vocab_size, (2, 6))
        mask = np.ones_like(ids)
        mask[1, :2] = 0  # a left-padded row
        ids[1, :2] = tester.torch_config.pad_token_id or 0
        if head == "TFGPT2LMHeadModel":  # through generate()'s dispatch to the JAX loop
            ours = np.asarray(model.generate(ids, attention_mask=mask, max_new_tokens=8))
        else:
            ours = jax_greedy_generate(model, ids, mask, max_new_tokens=8)
        with torch.no_grad():
            theirs = torch_model.generate(
                torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=8, do_sample=False
            ).numpy()
        results[head] = {"ours": ours.tolist(), "theirs": theirs.tolist(), "path": path, "ids": ids.tolist()}
        results[head].update(check_more_decoding(head, model, torch_model, ids, mask, np.asarray(ours)))
    return results


BEAM_SETTINGS = {  # per head, so both early_stopping branches and a length penalty run
    "TFLlamaForCausalLM": {"num_beams": 3, "num_return_sequences": 2, "length_penalty": 0.7},
    "TFGPT2LMHeadModel": {"num_beams": 2, "early_stopping": True},
}
SAMPLE_SETTINGS = {"do_sample": True, "temperature": 0.7, "top_k": 5, "top_p": 0.8, "num_return_sequences": 3}
PROCESSOR_SETTINGS = {"repetition_penalty": 1.3, "min_new_tokens": 6}


def allowed_tokens(torch_model, sequences, prompt_length, eos) -> list[bool]:
    """For each sampled token (up to its row's eos): is it inside the top-k / top-p set that
    transformers' warpers keep, computed from PyTorch's logits of the prefix before it?"""
    warpers = transformers.LogitsProcessorList(
        [
            transformers.TemperatureLogitsWarper(SAMPLE_SETTINGS["temperature"]),
            transformers.TopKLogitsWarper(SAMPLE_SETTINGS["top_k"]),
            transformers.TopPLogitsWarper(SAMPLE_SETTINGS["top_p"]),
        ]
    )
    inside = []
    for row in sequences:
        for column in range(prompt_length, len(row)):
            prefix = torch.tensor([row[:column]])
            with torch.no_grad():
                logits = torch_model(prefix).logits[:, -1, :]
            kept = torch.isfinite(warpers(prefix, logits))[0]
            inside.append(bool(kept[row[column]]))
            if row[column] == eos:
                break
    return inside


def check_more_decoding(head, model, torch_model, ids, mask, greedy) -> dict:
    """Beam search and the processors against transformers' generate; sampling's properties (ours on JAX)."""
    out = {}
    torch_ids, torch_mask = torch.tensor(ids), torch.tensor(mask)
    beam = BEAM_SETTINGS[head]
    out["beam"] = np.asarray(model.generate(ids, attention_mask=mask, max_new_tokens=6, **beam)).tolist()
    with torch.no_grad():
        out["beam_theirs"] = torch_model.generate(
            torch_ids, attention_mask=torch_mask, max_new_tokens=6, do_sample=False, **beam
        ).tolist()
    if head == "TFGPT2LMHeadModel":
        out["processors"] = np.asarray(
            model.generate(ids, attention_mask=mask, max_new_tokens=8, **PROCESSOR_SETTINGS)
        ).tolist()
        with torch.no_grad():
            out["processors_theirs"] = torch_model.generate(
                torch_ids, attention_mask=torch_mask, max_new_tokens=8, do_sample=False, **PROCESSOR_SETTINGS
            ).tolist()
        return out
    top1 = model.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=True, top_k=1, seed=(3, 4))
    out["top1_equals_greedy"] = np.array_equal(np.asarray(top1), greedy)
    prompt = ids[:1]  # one unpadded prompt, three samples
    first = np.asarray(model.generate(prompt, max_new_tokens=6, seed=(5, 6), **SAMPLE_SETTINGS))
    again = np.asarray(model.generate(prompt, max_new_tokens=6, seed=(5, 6), **SAMPLE_SETTINGS))
    other = np.asarray(model.generate(prompt, max_new_tokens=6, seed=(7, 8), **SAMPLE_SETTINGS))
    out["sample_same_seed_same_tokens"] = np.array_equal(first, again)
    out["sample_other_seed_differs"] = not np.array_equal(first, other)
    out["sample_rows_differ"] = len({tuple(r) for r in first.tolist()}) > 1
    out["sample_inside_top_k_top_p"] = allowed_tokens(
        torch_model, first.tolist() + other.tolist(), prompt.shape[1], torch_model.config.eos_token_id
    )
    generator = keras.random.SeedGenerator(11)
    out["seed_generator_runs"] = (
        np.asarray(model.generate(prompt, max_new_tokens=6, seed=generator, **SAMPLE_SETTINGS)).shape[0] == 3
    )
    return out


def tensorflow_only_refusals(model, folder) -> dict:
    """The TensorFlow-only pieces on JAX: one NotSupportedError each, naming the backend (or None if it ran)."""
    from kerasformers.serving import export_saved_model
    from kerasformers.serving.litert import export_litert

    attempts = {
        "in_graph_tokenizer": lambda: kerasformers.TFWordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"]),
        "export_saved_model": lambda: export_saved_model(model, os.path.join(folder, "serving")),
        "export_litert": lambda: export_litert(model, os.path.join(folder, "model.tflite")),
        "model_export_litert": lambda: model.export(os.path.join(folder, "keras.tflite"), format="litert"),
    }
    refusals = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            refusals[name] = None
        except kerasformers.errors.NotSupportedError as error:
            refusals[name] = str(error)
    written = [n for n in ("serving", "model.tflite", "keras.tflite") if os.path.exists(os.path.join(folder, n))]
    return {"tensorflow_only_refusals": refusals, "tensorflow_only_written": written}


def check_save(folder) -> dict:
    """save_pretrained on JAX, read back by us and by PyTorch transformers; a SavedModel is refused."""
    tester, head = TestBert(), "TFBertForSequenceClassification"
    _, path = saved_torch_model(tester, head, folder)
    model = getattr(kerasformers, head).from_pretrained(path)
    saved = os.path.join(folder, "saved-on-jax")
    model.save_pretrained(saved)
    inputs = tester.make_inputs(head)
    torch_model = getattr(transformers, tester.heads[head]).from_pretrained(saved, attn_implementation="eager")
    theirs = torch_outputs(torch_model.eval(), inputs).logits.numpy()
    reloaded = getattr(kerasformers, head).from_pretrained(saved)
    try:
        model.save_pretrained(os.path.join(folder, "saved-model-on-jax"), saved_model=True)
        refusal = None
    except kerasformers.errors.NotSupportedError as error:
        refusal = str(error)
    return {
        **tensorflow_only_refusals(model, folder),
        "ours_vs_torch": max_abs_diff(model(inputs)["logits"], theirs),
        "reloaded_vs_torch": max_abs_diff(reloaded(inputs)["logits"], theirs),
        "saved_model_refusal": refusal,
        "saved_model_folder_written": os.path.exists(os.path.join(folder, "saved-model-on-jax")),
    }


def check_tf_data(folder) -> dict:
    """prepare_tf_dataset on JAX: Keras' JAX trainer reads the tf.data batches; fit lowers the loss."""
    import datasets

    tester_class, head = FIT_CASE
    tester = tester_class()
    _, path = saved_torch_model(tester, head, folder)
    model = getattr(kerasformers, head).from_pretrained(path)
    rows = np.random.RandomState(3).randint(4, tester.torch_config.vocab_size, (6, 5)).tolist()
    data = datasets.Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * 5] * 6, "label": [0, 1] * 3})
    dataset = model.prepare_tf_dataset(data, batch_size=3, shuffle=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(dataset, epochs=4, verbose=0)
    return {"dataset_type": type(dataset).__module__, "history": [float(v) for v in history.history["loss"]]}


CHECKS = {
    "forward": check_forward,
    "fit": check_fit,
    "generate": check_generate,
    "seq2seq": check_seq2seq,
    "tf_data": check_tf_data,
    "save": check_save,
}


def main(argv) -> None:
    folder, checks = argv[0], argv[1:]
    report = {"backend": keras.backend.backend()}
    for check in checks:
        report[check] = CHECKS[check](folder)
    print("JAX_WORKER_REPORT " + json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
