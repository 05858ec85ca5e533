"""Blocks vision model files share: pixel layout, patch projection, PyTorch-exact resizing of tables.

``pixel_values`` are channels-first ``(batch, num_channels, height, width)`` as in transformers;
:func:`channels_first_pixel_values` also takes channels-last Keras data (see its docstring).
Convolutions whose stride equals their kernel (patch embeddings) and 1x1 convolutions are
matrix products here: one matmul XLA fuses well, with the weight kept in PyTorch's
``(out, in, kh, kw)`` layout so checkpoints load by name without a transpose.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasformers.errors import InvalidInputError

DATA_FORMATS = (None, "channels_first", "channels_last")


def as_pair(value) -> tuple[int, int]:
    """``224`` -> ``(224, 224)``; a (height, width) pair stays as it is.

    Example:
        >>> as_pair(16), as_pair([16, 8])
        ((16, 16), (16, 8))
    """
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def channels_first_pixel_values(pixel_values, num_channels: int, data_format: str | None = None):
    """``pixel_values`` as ``(batch, num_channels, height, width)``, transposing channels-last data.

    ``data_format=None`` detects the layout from the static shape: channels-first when axis 1
    is ``num_channels``; channels-last (Keras' image layout, ``(batch, height, width,
    channels)``) when the last axis is ``num_channels`` and axis 1 is not. When both axes equal
    ``num_channels`` the layout is ambiguous and an :class:`~kerasformers.errors.InvalidInputError`
    asks for ``data_format="channels_first"`` or ``"channels_last"``.

    Example:
        >>> channels_first_pixel_values(np.zeros((2, 32, 32, 3), "float32"), 3).shape
        TensorShape([2, 3, 32, 32])
    """
    if data_format not in DATA_FORMATS:
        raise InvalidInputError(f"data_format must be 'channels_first', 'channels_last' or None, got {data_format!r}.")
    shape = tuple(pixel_values.shape)
    if len(shape) != 4:
        raise InvalidInputError(
            f"pixel_values must have shape (batch_size, {num_channels}, height, width), got shape {shape}. "
            + ("Add a batch axis: pixel_values[None]." if len(shape) == 3 else "")
        )
    if data_format is None:
        first, last = shape[1] == num_channels, shape[-1] == num_channels
        if first and last:
            raise InvalidInputError(
                f"pixel_values of shape {shape} could be channels-first or channels-last (both axis 1 and the "
                f"last axis have {num_channels} channels). Pass data_format='channels_first' or 'channels_last'."
            )
        if not first and not last:
            raise InvalidInputError(
                f"pixel_values of shape {shape} have no axis of {num_channels} channels (config.num_channels): "
                f"give (batch_size, {num_channels}, height, width), e.g. from the model's image processor."
            )
        data_format = "channels_first" if first else "channels_last"
    channel_axis = 1 if data_format == "channels_first" else 3
    if shape[channel_axis] not in (None, num_channels):
        raise InvalidInputError(
            f"pixel_values of shape {shape} ({data_format}) have {shape[channel_axis]} channels but the model "
            f"expects {num_channels} (config.num_channels). Convert the images (e.g. image.convert('RGB'))."
        )
    if data_format == "channels_last":
        pixel_values = ops.transpose(pixel_values, (0, 3, 1, 2))
    return pixel_values


class PatchProjection(keras.layers.Layer):
    """A convolution with stride == kernel (patches) as one matmul; ``weight`` is PyTorch's (out, in, kh, kw).

    Input ``(batch, channels, height, width)``; output ``(batch, rows, cols, out_channels)``
    with ``rows = height // kh`` and ``cols = width // kw`` (extra pixels are dropped, as a
    strided convolution does). A 1x1 convolution is ``kernel_size=(1, 1)``.

    Example:
        >>> PatchProjection(3, 32, (8, 8))(np.zeros((1, 3, 32, 32), "float32")).shape
        TensorShape([1, 4, 4, 32])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, initializer_range: float = 0.02, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_pair(kernel_size)
        self.initializer_range = initializer_range

    def build(self, input_shape=None):
        kh, kw = self.kernel_size
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        self.weight = self.add_weight(
            shape=(self.out_channels, self.in_channels, kh, kw), initializer=init, name="weight"
        )
        self.bias = self.add_weight(shape=(self.out_channels,), initializer="zeros", name="bias")
        self.built = True

    def call(self, pixel_values):
        kh, kw = self.kernel_size
        shape = ops.shape(pixel_values)
        batch, channels = shape[0], self.in_channels
        rows, cols = shape[2] // kh, shape[3] // kw
        pixels = pixel_values[:, :, : rows * kh, : cols * kw]
        patches = ops.reshape(pixels, (batch, channels, rows, kh, cols, kw))
        patches = ops.reshape(ops.transpose(patches, (0, 2, 4, 1, 3, 5)), (batch, rows, cols, channels * kh * kw))
        kernel = ops.transpose(ops.reshape(self.weight, (self.out_channels, channels * kh * kw)))
        return ops.matmul(patches, ops.cast(kernel, patches.dtype)) + ops.cast(self.bias, patches.dtype)


def pixel_shuffle(features, upscale: int, channels: int):
    """PyTorch's ``PixelShuffle``: ``(batch, rows, cols, channels * r * r)`` -> ``(batch, channels, rows*r, cols*r)``.

    Example:
        >>> pixel_shuffle(np.zeros((1, 4, 4, 12), "float32"), 2, 3).shape
        TensorShape([1, 3, 8, 8])
    """
    shape = ops.shape(features)
    batch, rows, cols = shape[0], shape[1], shape[2]
    x = ops.reshape(features, (batch, rows, cols, channels, upscale, upscale))
    x = ops.transpose(x, (0, 3, 1, 4, 2, 5))
    return ops.reshape(x, (batch, channels, rows * upscale, cols * upscale))


def _cubic_weights(t: float, a: float = -0.75) -> list[float]:
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def bicubic_resize_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) matrix of PyTorch's bicubic interpolation (a=-0.75, align_corners=False).

    Rows are the weights of the four taps around each output pixel's source position, taps past
    the edge clamped to it, as ``torch.nn.functional.interpolate(mode="bicubic")`` does.

    Example:
        >>> bicubic_resize_matrix(4, 4).round(6).tolist() == np.eye(4).tolist()
        True
    """
    matrix = np.zeros((out_size, in_size), np.float64)
    scale = in_size / out_size
    for out_index in range(out_size):
        source = (out_index + 0.5) * scale - 0.5
        base = int(np.floor(source))
        for offset, weight in zip(range(-1, 3), _cubic_weights(source - base)):
            matrix[out_index, min(max(base + offset, 0), in_size - 1)] += weight
    return matrix


def interpolate_position_grid(table, grid_size: tuple[int, int], new_size: tuple[int, int]):
    """Bicubic resize of a ``(1, rows * cols, dim)`` position table to ``new_size`` (PyTorch's arithmetic).

    Example:
        >>> interpolate_position_grid(np.zeros((1, 16, 8), "float32"), (4, 4), (6, 6)).shape
        TensorShape([1, 36, 8])
    """
    rows, cols = grid_size
    new_rows, new_cols = new_size
    dim = table.shape[-1]
    grid = ops.reshape(table, (rows, cols, dim))
    row_matrix = ops.convert_to_tensor(bicubic_resize_matrix(rows, new_rows).astype(np.float32), dtype=table.dtype)
    col_matrix = ops.convert_to_tensor(bicubic_resize_matrix(cols, new_cols).astype(np.float32), dtype=table.dtype)
    resized = ops.einsum("ir,jc,rcd->ijd", row_matrix, col_matrix, grid)
    return ops.reshape(resized, (1, new_rows * new_cols, dim))
