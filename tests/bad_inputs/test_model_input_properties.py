"""Property: any shape and dtype at the model boundary either works or raises the documented error.

Hypothesis draws input_ids and attention_mask of random rank, sizes, dtypes and values (ids
in and out of the vocabulary). A call must then either return logits for that batch, or raise
ValueError / TypeError naming the offending argument; never a raw backend error.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

VOCAB = 99
MAX_POSITIONS = 64
DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "float16", "float32", "float64", "bool", "<U3"]
EXAMPLES = 60  # per model: ~10 s on 2 cores

PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def boundary_inputs(draw):
    rank = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3, 5, 70]), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(DTYPES))
    if dtype == "<U3":
        ids = draw(hnp.arrays(dtype, shape, elements=st.text(max_size=3)))
    elif dtype == "bool":
        ids = draw(hnp.arrays(dtype, shape))
    else:
        info = np.iinfo(dtype) if dtype[0] in "iu" else None
        low = max(-5, info.min) if info else -5
        high = min(VOCAB + 5, info.max) if info else VOCAB + 5
        ids = draw(hnp.arrays(dtype, shape, elements=st.integers(low, high).map(lambda v: np.dtype(dtype).type(v))))
    inputs = {"input_ids": ids}
    mask_kind = draw(st.sampled_from(["none", "same", "other shape", "float"]))
    if mask_kind == "same":
        inputs["attention_mask"] = np.ones(shape, np.int32)
    elif mask_kind == "float":
        inputs["attention_mask"] = np.ones(shape, np.float32)
    elif mask_kind == "other shape":
        other = tuple(draw(st.lists(st.sampled_from([1, 2, 3, 4]), min_size=2, max_size=2)))
        inputs["attention_mask"] = np.ones(other, np.int32)
    return inputs


def _valid(inputs) -> bool:
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    return (
        ids.ndim == 2
        and ids.dtype.kind in "iu"
        and 0 not in ids.shape
        and ids.shape[1] <= MAX_POSITIONS
        and int(ids.min()) >= 0
        and int(ids.max()) < VOCAB
        and (mask is None or mask.shape == ids.shape)
    )


def check_boundary(model, inputs):
    if _valid(inputs):
        logits = np.asarray(model(inputs).logits)
        assert logits.shape[0] == inputs["input_ids"].shape[0] and np.isfinite(logits).all()
        return
    with pytest.raises((ValueError, TypeError)) as info:
        model(inputs)
    message = str(info.value)
    assert "input_ids" in message or "attention_mask" in message, message
    assert "Exception encountered when calling" not in message, message  # a raw error from inside a layer


@PROPERTY_SETTINGS
@given(inputs=boundary_inputs())
def test_bert_boundary_works_or_names_the_problem(tiny_bert_classifier, inputs):
    check_boundary(tiny_bert_classifier, inputs)


@PROPERTY_SETTINGS
@given(inputs=boundary_inputs())
def test_llama_boundary_works_or_names_the_problem(tiny_llama, inputs):
    check_boundary(tiny_llama, inputs)
