"""``keras.layers.Dropout`` whose random mask is cheap inside XLA on CPU.

Keras' TensorFlow backend draws dropout masks with ``tf.nn.experimental.stateless_dropout``, whose
default algorithm compiles under XLA on CPU into a slow random-number kernel: in a MiniLM
training step at batch 32 x 128 (6 layers of attention-probability dropout over 6.3M values each)
it was 28% of the step's CPU time. Inside an XLA function this layer draws the same kind of
mask (keep with probability ``1 - rate``, kept values scaled by ``1 / (1 - rate)``) from the
ThreeFry generator, which XLA compiles to fast vector code (about 5x less time per mask).
Everywhere else (eager, graphs without XLA, inference, other backends) it is Keras' Dropout.
The seed comes from the layer's own ``SeedGenerator`` exactly as Keras draws it, so seeding and
saving its state work the same.
"""

from __future__ import annotations

import keras

from kerasformers.utils.backend import inside_xla

__all__ = ["Dropout"]


@keras.saving.register_keras_serializable(package="kerasformers")
class Dropout(keras.layers.Dropout):
    """Keras' Dropout, with ThreeFry masks inside XLA on TensorFlow.

    Example:
        >>> layer = Dropout(0.1)
        >>> layer(np.ones((2, 4), "float32"), training=True).shape
        (2, 4)
    """

    def call(self, inputs, training=False):
        if not (training is True and 0 < self.rate < 1) or not inside_xla():
            return super().call(inputs, training=training)
        import tensorflow as tf

        # the seed as Keras' backend draws and casts it (its state variable is int64)
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        shape = tf.shape(inputs)
        if self.noise_shape is not None:
            shape = [shape[i] if size is None else size for i, size in enumerate(self.noise_shape)]
        uniform = tf.random.stateless_uniform(shape, seed=seed, alg="threefry")  # float32 in any policy
        scale = tf.cast(1.0 / (1.0 - self.rate), inputs.dtype)
        return tf.where(uniform >= self.rate, inputs * scale, tf.zeros_like(inputs))
