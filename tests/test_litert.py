"""LiteRT export of encoder heads, run with the ai-edge-litert interpreter in a fresh process
that imports neither kerasformers nor TensorFlow.

Expected values: our Keras model's outputs on the same tiny checkpoint (fp32 within 1e-4; the
int8 file, dynamic-range quantized, with the same top-1 class).
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import torch
import transformers
from tiny_configs import BERT_KWARGS, IDS, MASK

import kerasformers
from kerasformers.cli import main
from kerasformers.errors import ExportError

pytest.importorskip("ai_edge_litert")

BERT = transformers.BertConfig(**BERT_KWARGS, num_labels=3)
TYPES = np.zeros_like(IDS)

RUN_LITERT = """
import json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
path, inputs = sys.argv[1], json.loads(sys.argv[2])
runner = Interpreter(model_path=path).get_signature_runner()
outputs = runner(**{k: np.asarray(v, np.int32) for k, v in inputs.items()})
assert "kerasformers" not in sys.modules and "tensorflow" not in sys.modules
print(json.dumps({k: np.asarray(v).tolist() for k, v in outputs.items()}))
"""


def run_fresh(path):
    inputs = {"input_ids": IDS.tolist(), "attention_mask": MASK.tolist(), "token_type_ids": TYPES.tolist()}
    done = subprocess.run(
        [sys.executable, "-c", RUN_LITERT, str(path), json.dumps(inputs)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {k: np.asarray(v, np.float32) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folders = {}
    for task, cls in (
        ("text-classification", transformers.BertForSequenceClassification),
        ("token-classification", transformers.BertForTokenClassification),
        ("feature-extraction", transformers.BertModel),
    ):
        torch.manual_seed(0)
        folders[task] = tmp_path_factory.mktemp(task)
        cls(BERT).save_pretrained(folders[task])
    return folders


@pytest.mark.parametrize(
    "task,cls,output",
    [
        ("text-classification", "TFBertForSequenceClassification", "logits"),
        pytest.param("token-classification", "TFBertForTokenClassification", "logits", marks=pytest.mark.slow),
        pytest.param("feature-extraction", "TFBertModel", "last_hidden_state", marks=pytest.mark.slow),
    ],
)
def test_litert_matches_keras_in_fresh_process(task, cls, output, checkpoints, tmp_path):
    model = getattr(kerasformers, cls).from_pretrained(checkpoints[task])
    expected = keras.ops.convert_to_numpy(
        getattr(model(input_ids=IDS, attention_mask=MASK, token_type_ids=TYPES), output)
    )
    path = tmp_path / "model.tflite"
    main(["export", str(checkpoints[task]), str(path), "--format", "litert", "--task", task])
    ours = run_fresh(path)[output]
    valid = MASK.astype(bool) if output != "logits" or task == "token-classification" else slice(None)
    assert np.abs(ours[valid] - expected[valid]).max() <= 1e-4
    if task == "text-classification":
        quantized = tmp_path / "int8.tflite"
        main(["export", str(checkpoints[task]), str(quantized), "--format", "litert", "--task", task, "--int8"])
        assert quantized.stat().st_size < path.stat().st_size
        np.testing.assert_array_equal(run_fresh(quantized)["logits"].argmax(-1), expected.argmax(-1))


def test_litert_refuses_other_tasks_and_existing_file(checkpoints, tmp_path):
    from kerasformers.serving.litert_encoder import export_checkpoint_encoder_litert

    with pytest.raises(ExportError, match="encoder heads"):
        export_checkpoint_encoder_litert(
            checkpoints["feature-extraction"], tmp_path / "m.tflite", task="text-generation"
        )
    (tmp_path / "m.tflite").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="overwrite"):
        export_checkpoint_encoder_litert(
            checkpoints["feature-extraction"], tmp_path / "m.tflite", task="feature-extraction"
        )
