"""TF-side transformers' logits processors (4.57's generation/tf_logits_process.py names and calls).

Oracles: transformers 5.23's PyTorch processor of the same behaviour on the same inputs, where one
exists (called with exactly the first cur_len tokens, as PyTorch's generate passes them), and the
behaviour 4.57's tf_logits_process.py documents on hand-made inputs. Each is also run on a wider
buffer (junk after cur_len, as TF-side generate passed it) and under XLA with a tensor cur_len.
"""

import numpy as np
import pytest
import tensorflow as tf
import torch
from transformers.generation import logits_process as hf

import kerasformers as kf
from kerasformers.errors import InvalidInputError

PAIRS = [
    (lambda: kf.TFTemperatureLogitsWarper(0.7), lambda: hf.TemperatureLogitsWarper(0.7)),
    (lambda: kf.TFTopKLogitsWarper(5), lambda: hf.TopKLogitsWarper(5)),
    (lambda: kf.TFTopKLogitsWarper(2, min_tokens_to_keep=4), lambda: hf.TopKLogitsWarper(2, min_tokens_to_keep=4)),
    (lambda: kf.TFTopPLogitsWarper(0.8), lambda: hf.TopPLogitsWarper(0.8)),
    (lambda: kf.TFTopPLogitsWarper(0.3, min_tokens_to_keep=3), lambda: hf.TopPLogitsWarper(0.3, min_tokens_to_keep=3)),
    (lambda: kf.TFMinLengthLogitsProcessor(12, 3), lambda: hf.MinLengthLogitsProcessor(12, 3)),
    (lambda: kf.TFMinLengthLogitsProcessor(5, 3), lambda: hf.MinLengthLogitsProcessor(5, 3)),
    (lambda: kf.TFRepetitionPenaltyLogitsProcessor(1.5), lambda: hf.RepetitionPenaltyLogitsProcessor(1.5)),
    (lambda: kf.TFRepetitionPenaltyLogitsProcessor(0.7), lambda: hf.RepetitionPenaltyLogitsProcessor(0.7)),
    (
        lambda: kf.TFNoBadWordsLogitsProcessor([[5], [1, 2, 7], [9, 11]], eos_token_id=3),
        lambda: hf.NoBadWordsLogitsProcessor([[5], [1, 2, 7], [9, 11]], eos_token_id=3),
    ),
    (lambda: kf.TFNoRepeatNGramLogitsProcessor(2), lambda: hf.NoRepeatNGramLogitsProcessor(2)),
    (lambda: kf.TFNoRepeatNGramLogitsProcessor(3), lambda: hf.NoRepeatNGramLogitsProcessor(3)),
    (lambda: kf.TFForcedBOSTokenLogitsProcessor(1), lambda: hf.ForcedBOSTokenLogitsProcessor(1)),
    (lambda: kf.TFForcedEOSTokenLogitsProcessor(10, 4), lambda: hf.ForcedEOSTokenLogitsProcessor(10, 4)),
    (
        lambda: kf.TFSuppressTokensAtBeginLogitsProcessor([4, 8], 9),
        lambda: hf.SuppressTokensAtBeginLogitsProcessor([4, 8], 9),
    ),
    (lambda: kf.TFSuppressTokensLogitsProcessor([0, 6, 39]), lambda: hf.SuppressTokensLogitsProcessor([0, 6, 39])),
]


def _case(length, seed=0, batch=3, vocab=40):
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, (batch, length))
    if length >= 8:
        ids[0, -4:] = ids[0, 1:5]  # a repeated n-gram
        ids[1, -3:] = [1, 2, 9]  # a bad word's prefix
    scores = (rng.randn(batch, vocab) * 3).astype(np.float32)
    return ids, scores


def _same(ours, theirs):
    ours = np.asarray(ours)
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make_ours, make_theirs", PAIRS)
@pytest.mark.parametrize("cur_len", [1, 9, 10])
def test_tf_processor_matches_transformers_pytorch_equivalent(make_ours, make_theirs, cur_len):
    ids, scores = _case(cur_len)
    expected = make_theirs()(torch.tensor(ids), torch.tensor(scores)).numpy()
    ours = make_ours()
    _same(ours(tf.constant(ids), tf.constant(scores), cur_len), expected)
    # TF-side generate's layout: a wider buffer, tokens in the first cur_len columns, the rest unwritten
    buffer = np.concatenate([ids, np.full((3, 6), 11)], axis=1)
    _same(ours(tf.constant(buffer), tf.constant(scores), cur_len), expected)
    if cur_len != 9:
        return  # one XLA compilation per processor is enough
    compiled = tf.function(lambda i, s, n: ours(i, s, n), jit_compile=True)
    _same(compiled(tf.constant(buffer), tf.constant(scores), tf.constant(cur_len)), expected)


def test_documented_behaviour_on_hand_made_inputs():
    """Values from 4.57's tf_logits_process.py formulas."""
    ids = tf.constant([[1, 0, 0]])
    scores = tf.constant([[1.0, 4.0, -1.0]])
    # repetition penalty: positive scores of seen tokens divided, negative multiplied (token 1 seen)
    np.testing.assert_allclose(kf.TFRepetitionPenaltyLogitsProcessor(2.0)(ids, scores, 1), [[1.0, 2.0, -1.0]])
    # ... and only the first cur_len columns count (0 is unwritten here)
    np.testing.assert_allclose(
        kf.TFRepetitionPenaltyLogitsProcessor(2.0)(tf.constant([[2, 0]]), scores, 1), [[1.0, 4.0, -2.0]]
    )
    # forced BOS at cur_len 1 / forced EOS at cur_len max_length - 1: 0 on the token, -inf elsewhere
    np.testing.assert_array_equal(kf.TFForcedBOSTokenLogitsProcessor(2)(ids, scores, 1), [[-np.inf, -np.inf, 0.0]])
    np.testing.assert_array_equal(kf.TFForcedBOSTokenLogitsProcessor(2)(ids, scores, 2), scores)
    np.testing.assert_array_equal(kf.TFForcedEOSTokenLogitsProcessor(5, 0)(ids, scores, 4), [[0.0, -np.inf, -np.inf]])
    # force tokens: at cur_len == index the token gets 0, the rest the dtype's lowest value; None forces nothing
    forced = kf.TFForceTokensLogitsProcessor([[1, 2], [2, None]])
    lowest = np.finfo(np.float32).min
    np.testing.assert_array_equal(forced(ids, scores, 1), [[lowest, lowest, 0.0]])
    np.testing.assert_array_equal(forced(ids, scores, 2), scores)
    np.testing.assert_array_equal(forced(ids, scores, 7), scores)
    # top-p keeps the tokens until their probability reaches top_p (the crossing one included)
    probs = tf.math.log(tf.constant([[0.1, 0.6, 0.3]]))
    np.testing.assert_array_equal(np.isfinite(kf.TFTopPLogitsWarper(0.5)(ids, probs, 1)), [[False, True, False]])
    np.testing.assert_array_equal(np.isfinite(kf.TFTopPLogitsWarper(0.7)(ids, probs, 1)), [[False, True, True]])
    # filter_value replaces -inf where given
    np.testing.assert_array_equal(kf.TFTopKLogitsWarper(1, filter_value=-5.0)(ids, scores, 1), [[-5.0, 4.0, -5.0]])


def test_processor_list_passes_kwargs_and_constructor_checks():
    class NeedsBeam(kf.TFLogitsProcessor):
        def __call__(self, input_ids, scores, cur_len, beam):
            return scores + beam

    ids, scores = tf.constant([[1]]), tf.constant([[1.0, 2.0]])
    processors = kf.TFLogitsProcessorList([kf.TFTemperatureLogitsWarper(2.0), NeedsBeam()])
    np.testing.assert_allclose(processors(ids, scores, 1, beam=1.0), [[1.5, 2.0]])
    with pytest.raises(ValueError, match="beam"):
        processors(ids, scores, 1)
    # 4.57 insists on floats and positive values
    for make in (
        lambda: kf.TFTemperatureLogitsWarper(1),
        lambda: kf.TFTopKLogitsWarper(0),
        lambda: kf.TFTopPLogitsWarper(1.5),
        lambda: kf.TFRepetitionPenaltyLogitsProcessor(1),
        lambda: kf.TFMinLengthLogitsProcessor(3, -1),
        lambda: kf.TFNoBadWordsLogitsProcessor([[]], 2),
        lambda: kf.TFNoRepeatNGramLogitsProcessor(0),
    ):
        with pytest.raises(InvalidInputError):
            make()
