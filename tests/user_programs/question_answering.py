"""Extractive question answering as in transformers' TF run_qa.py: overflowing windows, offsets, post-processing.

prepare_train_features / prepare_validation_features (truncation="only_second", stride,
return_overflowing_tokens, return_offsets_mapping, sequence_ids), TFAutoModelForQuestionAnswering
trained with compile() and no loss, predict() start/end logits, then postprocess_qa_predictions
(n-best spans mapped back to the context through the offsets).
Globals: CHECKPOINT, TRAIN_TEXTS, EVAL_TEXTS.
"""

# ruff: noqa: F821  (CHECKPOINT and the data are globals the test passes in)

import collections

import numpy as np
import tensorflow as tf
from datasets import Dataset

from kerasformers import AutoTokenizer, DefaultDataCollator, TFAutoModelForQuestionAnswering, create_optimizer


def squad_like(texts, prefix):
    """Two reviews make a context; the question asks for the word after a given word of the second."""
    rows = {"id": [], "question": [], "context": [], "answers": []}
    for i in range(0, len(texts) - 1, 2):
        context = texts[i] + " " + texts[i + 1]
        words = texts[i + 1].split()
        if len(words) < 3:
            continue
        anchor, answer = words[len(words) // 2 - 1], words[len(words) // 2]
        start = context.index(anchor + " " + answer, len(texts[i])) + len(anchor) + 1
        rows["id"].append(f"{prefix}-{i}")
        rows["question"].append(f"Which word follows {anchor}?")
        rows["context"].append(context)
        rows["answers"].append({"text": [answer], "answer_start": [start]})
    return Dataset.from_dict(rows)


raw_train, raw_eval = squad_like(TRAIN_TEXTS, "train"), squad_like(EVAL_TEXTS, "eval")
tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
max_seq_length, doc_stride = 48, 16
pad_on_right = tokenizer.padding_side == "right"
question_column_name, context_column_name, answer_column_name = "question", "context", "answers"


def prepare_train_features(examples):
    examples[question_column_name] = [q.lstrip() for q in examples[question_column_name]]
    tokenized_examples = tokenizer(
        examples[question_column_name if pad_on_right else context_column_name],
        examples[context_column_name if pad_on_right else question_column_name],
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_mapping = tokenized_examples.pop("overflow_to_sample_mapping")
    offset_mapping = tokenized_examples.pop("offset_mapping")
    tokenized_examples["start_positions"] = []
    tokenized_examples["end_positions"] = []

    for i, offsets in enumerate(offset_mapping):
        input_ids = tokenized_examples["input_ids"][i]
        cls_index = input_ids.index(tokenizer.cls_token_id)
        sequence_ids = tokenized_examples.sequence_ids(i)
        sample_index = sample_mapping[i]
        answers = examples[answer_column_name][sample_index]
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])

        token_start_index = 0
        while sequence_ids[token_start_index] != (1 if pad_on_right else 0):
            token_start_index += 1
        token_end_index = len(input_ids) - 1
        while sequence_ids[token_end_index] != (1 if pad_on_right else 0):
            token_end_index -= 1

        if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
            tokenized_examples["start_positions"].append(cls_index)
            tokenized_examples["end_positions"].append(cls_index)
        else:
            while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
                token_start_index += 1
            tokenized_examples["start_positions"].append(token_start_index - 1)
            while offsets[token_end_index][1] >= end_char:
                token_end_index -= 1
            tokenized_examples["end_positions"].append(token_end_index + 1)
    return tokenized_examples


def prepare_validation_features(examples):
    examples[question_column_name] = [q.lstrip() for q in examples[question_column_name]]
    tokenized_examples = tokenizer(
        examples[question_column_name if pad_on_right else context_column_name],
        examples[context_column_name if pad_on_right else question_column_name],
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_mapping = tokenized_examples.pop("overflow_to_sample_mapping")
    tokenized_examples["example_id"] = []
    for i in range(len(tokenized_examples["input_ids"])):
        sequence_ids = tokenized_examples.sequence_ids(i)
        context_index = 1 if pad_on_right else 0
        sample_index = sample_mapping[i]
        tokenized_examples["example_id"].append(examples["id"][sample_index])
        tokenized_examples["offset_mapping"][i] = [
            (o if sequence_ids[k] == context_index else None)
            for k, o in enumerate(tokenized_examples["offset_mapping"][i])
        ]
    return tokenized_examples


train_dataset = raw_train.map(prepare_train_features, batched=True, remove_columns=raw_train.column_names)
eval_dataset = raw_eval.map(prepare_validation_features, batched=True, remove_columns=raw_eval.column_names)
assert len(eval_dataset) > len(raw_eval)  # long contexts overflow into several windows

model = TFAutoModelForQuestionAnswering.from_pretrained(CHECKPOINT)
data_collator = DefaultDataCollator(return_tensors="np")
tf_train_dataset = model.prepare_tf_dataset(train_dataset, shuffle=True, batch_size=8, drop_remainder=True)
num_train_steps = len(tf_train_dataset)
optimizer, schedule = create_optimizer(init_lr=2e-3, num_train_steps=num_train_steps, num_warmup_steps=0)
model.compile(optimizer=optimizer, jit_compile=False)
history = model.fit(tf_train_dataset, epochs=1)
assert np.isfinite(history.history["loss"][0])

# evaluation: the model sees only the model inputs; offsets and ids stay for post-processing
tf_eval_dataset = model.prepare_tf_dataset(eval_dataset, shuffle=False, batch_size=8, collate_fn=data_collator)
eval_predictions = model.predict(tf_eval_dataset)
all_start_logits, all_end_logits = eval_predictions.start_logits, eval_predictions.end_logits
assert all_start_logits.shape == (len(eval_dataset), max_seq_length)


def postprocess_qa_predictions(examples, features, predictions, n_best_size=20, max_answer_length=30):
    all_start_logits, all_end_logits = predictions
    example_id_to_index = {k: i for i, k in enumerate(examples["id"])}
    features_per_example = collections.defaultdict(list)
    for i, feature in enumerate(features):
        features_per_example[example_id_to_index[feature["example_id"]]].append(i)

    all_predictions = collections.OrderedDict()
    for example_index, example in enumerate(examples):
        feature_indices = features_per_example[example_index]
        prelim_predictions = []
        for feature_index in feature_indices:
            start_logits = all_start_logits[feature_index]
            end_logits = all_end_logits[feature_index]
            offset_mapping = features[feature_index]["offset_mapping"]
            start_indexes = np.argsort(start_logits)[-1 : -n_best_size - 1 : -1].tolist()
            end_indexes = np.argsort(end_logits)[-1 : -n_best_size - 1 : -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if (
                        start_index >= len(offset_mapping)
                        or end_index >= len(offset_mapping)
                        or offset_mapping[start_index] is None
                        or len(offset_mapping[start_index]) < 2
                        or offset_mapping[end_index] is None
                        or len(offset_mapping[end_index]) < 2
                    ):
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    prelim_predictions.append(
                        {
                            "offsets": (offset_mapping[start_index][0], offset_mapping[end_index][1]),
                            "score": start_logits[start_index] + end_logits[end_index],
                        }
                    )
        best = sorted(prelim_predictions, key=lambda x: x["score"], reverse=True)[:n_best_size]
        context = example["context"]
        all_predictions[example["id"]] = context[best[0]["offsets"][0] : best[0]["offsets"][1]] if best else ""
    return all_predictions


predictions = postprocess_qa_predictions(raw_eval, eval_dataset, (all_start_logits, all_end_logits))
assert list(predictions) == raw_eval["id"]
for example in raw_eval:
    assert predictions[example["id"]] in example["context"]
exact_match = np.mean([predictions[e["id"]] == e["answers"]["text"][0] for e in raw_eval])

# one question by hand, as the task guide does it
question, context = raw_eval[0]["question"], raw_eval[0]["context"]
inputs = tokenizer(question, context, return_tensors="tf")
outputs = model(**inputs)
answer_start_index = int(tf.math.argmax(outputs.start_logits, axis=-1)[0])
answer_end_index = int(tf.math.argmax(outputs.end_logits, axis=-1)[0])
predict_answer_tokens = inputs.input_ids[0, answer_start_index : answer_end_index + 1]
answer = tokenizer.decode(predict_answer_tokens)
assert isinstance(answer, str)
