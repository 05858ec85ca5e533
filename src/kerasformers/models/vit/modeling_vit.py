"""Vision Transformer (ViT) in Keras 3: patch embeddings, pre-norm encoder, every head.

Layer attribute names follow the checkpoint's tensor names (``vit.embeddings.patch_embeddings.
projection``, ``encoder.layer.0.attention.attention.query``, ``layernorm_before``...), so
checkpoints map onto variables by name (see kerasformers.weights). ``pixel_values`` are
channels-first ``(batch, num_channels, height, width)`` as in transformers; channels-last
arrays are detected from their shape or named with ``data_format`` (see
:func:`kerasformers.layers.vision.channels_first_pixel_values`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError, InvalidInputError
from kerasformers.layers.dropout import Dropout
from kerasformers.layers.vision import (
    PatchProjection,
    as_pair,
    channels_first_pixel_values,
    interpolate_position_grid,
    pixel_shuffle,
)
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.vit.configuration_vit import ViTConfig
from kerasformers.outputs import BaseModelOutputWithPooling, ImageClassifierOutput, MaskedImageModelingOutput

__all__ = [
    "TFViTPreTrainedModel",
    "TFViTModel",
    "TFViTForImageClassification",
    "TFViTForMaskedImageModeling",
    "interpolate_pos_encoding",
]


def dense(units, config, name=None, use_bias=True):
    init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
    return keras.layers.Dense(units, kernel_initializer=init, use_bias=use_bias, name=name)


def layer_norm(config, name):
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)


def interpolate_pos_encoding(position_embeddings, height: int, width: int, patch_size, num_prefix_tokens: int = 1):
    """Position embeddings for a ``height`` x ``width`` image: the patch grid resized bicubically.

    As transformers' ``ViTEmbeddings.interpolate_pos_encoding`` (PyTorch's bicubic,
    align_corners=False): the first ``num_prefix_tokens`` rows ([CLS], DeiT's distillation
    token) stay; the square grid of patch rows is resized to ``(height // patch, width //
    patch)``. ``height`` and ``width`` must be static. The table comes back unchanged when the
    grid already has that many patches and the image is square, as in transformers.

    Example:
        >>> table = np.zeros((1, 1 + 16, 32), "float32")  # [CLS] + a 4x4 grid
        >>> interpolate_pos_encoding(table, 48, 48, 8).shape
        TensorShape([1, 37, 32])
    """
    patch_height, patch_width = as_pair(patch_size)
    num_positions = position_embeddings.shape[1] - num_prefix_tokens
    new_rows, new_cols = height // patch_height, width // patch_width
    if new_rows * new_cols == num_positions and height == width:
        return position_embeddings
    side = int(num_positions**0.5)
    if side * side != num_positions:
        raise ConfigError(f"interpolate_pos_encoding needs a square grid of positions, got {num_positions}.")
    prefix = position_embeddings[:, :num_prefix_tokens]
    grid = interpolate_position_grid(position_embeddings[:, num_prefix_tokens:], (side, side), (new_rows, new_cols))
    return ops.concatenate([prefix, ops.cast(grid, prefix.dtype)], axis=1)


class ViTPatchEmbeddings(keras.layers.Layer):
    """(batch, channels, height, width) -> (batch, num_patches, hidden_size) via the patch ``projection``."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.image_size = as_pair(config.image_size)
        self.patch_size = as_pair(config.patch_size)
        self.num_channels = config.num_channels
        self.num_patches = (self.image_size[0] // self.patch_size[0]) * (self.image_size[1] // self.patch_size[1])
        self.projection = PatchProjection(
            config.num_channels, config.hidden_size, self.patch_size, config.initializer_range, name="projection"
        )

    def call(self, pixel_values):
        grid = self.projection(pixel_values)
        shape = ops.shape(grid)
        return ops.reshape(grid, (shape[0], shape[1] * shape[2], shape[3]))


class ViTEmbeddings(keras.layers.Layer):
    """[CLS] + patch embeddings (+ [MASK] over masked patches) + position embeddings, dropout."""

    num_prefix_tokens = 1

    def __init__(self, config, use_mask_token: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.use_mask_token = use_mask_token
        self.patch_embeddings = ViTPatchEmbeddings(config, name="patch_embeddings")
        self.dropout = Dropout(config.hidden_dropout_prob)

    def build(self, input_shape=None):
        init = keras.initializers.TruncatedNormal(stddev=self.config.initializer_range)
        hidden = self.config.hidden_size
        self.cls_token = self.add_weight(shape=(1, 1, hidden), initializer=init, name="cls_token")
        if self.use_mask_token:
            self.mask_token = self.add_weight(shape=(1, 1, hidden), initializer="zeros", name="mask_token")
        self.add_prefix_weights(init, hidden)
        num_positions = self.patch_embeddings.num_patches + self.num_prefix_tokens
        self.position_embeddings = self.add_weight(
            shape=(1, num_positions, hidden), initializer=init, name="position_embeddings"
        )
        self.built = True

    def add_prefix_weights(self, init, hidden):
        """Extra learned tokens after [CLS] (DeiT's distillation token); none in ViT."""

    def prefix_tokens(self, batch):
        return ops.broadcast_to(self.cls_token, (batch, 1, self.config.hidden_size))

    def call(self, pixel_values, bool_masked_pos=None, interpolate_pos_encoding_=False, training=False):
        height, width = pixel_values.shape[2], pixel_values.shape[3]
        embeddings = self.patch_embeddings(pixel_values)
        batch = ops.shape(embeddings)[0]
        if bool_masked_pos is not None:
            mask = ops.cast(bool_masked_pos, embeddings.dtype)[:, :, None]
            embeddings = embeddings * (1.0 - mask) + ops.cast(self.mask_token, embeddings.dtype) * mask
        embeddings = ops.concatenate([ops.cast(self.prefix_tokens(batch), embeddings.dtype), embeddings], axis=1)
        if interpolate_pos_encoding_:
            if height is None or width is None:
                raise InvalidInputError(
                    "interpolate_pos_encoding=True needs pixel_values with a static height and width."
                )
            positions = interpolate_pos_encoding(
                self.position_embeddings, height, width, self.config.patch_size, self.num_prefix_tokens
            )
        else:
            expected = as_pair(self.config.image_size)
            if (height, width) != expected and None not in (height, width):
                raise InvalidInputError(
                    f"Input image size ({height}*{width}) doesn't match model ({expected[0]}*{expected[1]}). "
                    "Resize with the model's image processor, or pass interpolate_pos_encoding=True."
                )
            positions = self.position_embeddings
        embeddings = embeddings + ops.cast(positions, embeddings.dtype)
        return self.dropout(embeddings, training=training)


class ViTSelfAttention(keras.layers.Layer):
    """query / key / value projections and softmax attention over every token (no mask)."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        if config.hidden_size % config.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({config.hidden_size}) must be a multiple of "
                f"num_attention_heads ({config.num_attention_heads})."
            )
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = dense(config.hidden_size, config, "query", use_bias=config.qkv_bias)
        self.key = dense(config.hidden_size, config, "key", use_bias=config.qkv_bias)
        self.value = dense(config.hidden_size, config, "value", use_bias=config.qkv_bias)
        self.dropout = Dropout(config.attention_probs_dropout_prob)

    def split_heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_size)), (0, 2, 1, 3))

    def call(self, hidden_states, output_attentions=False, training=False):
        query = self.split_heads(self.query(hidden_states))
        key = self.split_heads(self.key(hidden_states))
        value = self.split_heads(self.value(hidden_states))
        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) * (self.head_size**-0.5)
        probs = ops.softmax(scores, axis=-1)
        context = ops.matmul(self.dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return context, (probs if output_attentions else None)


class ViTSelfOutput(keras.layers.Layer):
    """The attention's output projection and dropout (the residual is added by the layer)."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.dropout = Dropout(config.hidden_dropout_prob)

    def call(self, hidden_states, training=False):
        return self.dropout(self.dense(hidden_states), training=training)


class ViTAttention(keras.layers.Layer):
    torch_module_names = {"self_attention": "attention", "attention_output": "output"}

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attention = ViTSelfAttention(config, name="attention")
        self.attention_output = ViTSelfOutput(config, name="output")

    def call(self, hidden_states, output_attentions=False, training=False):
        context, probs = self.self_attention(hidden_states, output_attentions=output_attentions, training=training)
        return self.attention_output(context, training=training), probs


class ViTIntermediate(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.intermediate_size, config, "dense")
        self.activation = get_activation(config.hidden_act)

    def call(self, hidden_states):
        return self.activation(self.dense(hidden_states))


class ViTOutput(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.hidden_size, config, "dense")
        self.dropout = Dropout(config.hidden_dropout_prob)

    def call(self, hidden_states, training=False):
        return self.dropout(self.dense(hidden_states), training=training)


class ViTLayer(keras.layers.Layer):
    """Pre-norm block: x + attention(layernorm_before(x)); then x + mlp(layernorm_after(x))."""

    torch_module_names = {"layer_output": "output"}

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.attention = ViTAttention(config, name="attention")
        self.intermediate = ViTIntermediate(config, name="intermediate")
        self.layer_output = ViTOutput(config, name="output")
        self.layernorm_before = layer_norm(config, "layernorm_before")
        self.layernorm_after = layer_norm(config, "layernorm_after")

    def call(self, hidden_states, output_attentions=False, training=False):
        attended, probs = self.attention(
            self.layernorm_before(hidden_states), output_attentions=output_attentions, training=training
        )
        hidden_states = attended + hidden_states
        mlp = self.layer_output(self.intermediate(self.layernorm_after(hidden_states)), training=training)
        return mlp + hidden_states, probs


class ViTEncoder(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.layer = [ViTLayer(config, name=f"layer_{i}") for i in range(config.num_hidden_layers)]

    def call(self, hidden_states, output_attentions=False, output_hidden_states=False, training=False):
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layer:
            hidden_states, probs = layer(hidden_states, output_attentions=output_attentions, training=training)
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if output_attentions:
                all_attentions.append(probs)
        return hidden_states, all_hidden, all_attentions


class ViTPooler(keras.layers.Layer):
    """dense + activation (tanh by default) on the [CLS] token."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense(config.pooler_output_size, config, "dense")
        self.activation = get_activation(config.pooler_act)

    def call(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class ViTMainLayer(keras.layers.Layer):
    """Embeddings, encoder, final layernorm and (optionally) the pooler: ``ViTModel`` in transformers."""

    embeddings_class = ViTEmbeddings

    def __init__(self, config, add_pooling_layer: bool = True, use_mask_token: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = self.embeddings_class(config, use_mask_token=use_mask_token, name="embeddings")
        self.encoder = ViTEncoder(config, name="encoder")
        self.layernorm = layer_norm(config, "layernorm")
        self.pooler = ViTPooler(config, name="pooler") if add_pooling_layer else None

    def call(
        self,
        pixel_values,
        bool_masked_pos=None,
        interpolate_pos_encoding=False,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        output_attentions = output_attentions or self.config.output_attentions
        output_hidden_states = output_hidden_states or self.config.output_hidden_states
        hidden = self.embeddings(
            pixel_values,
            bool_masked_pos=bool_masked_pos,
            interpolate_pos_encoding_=bool(interpolate_pos_encoding),
            training=training,
        )
        hidden, all_hidden, all_attentions = self.encoder(
            hidden, output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training
        )
        sequence_output = self.layernorm(hidden)
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        return BaseModelOutputWithPooling(
            last_hidden_state=sequence_output,
            pooler_output=pooled,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class TFViTPreTrainedModel(TFPreTrainedModel):
    """Base of the ViT models: ``pixel_values`` in, config and loading as every model here.

    ``pixel_values`` are ``(batch, num_channels, height, width)`` floats as the image processor
    gives them; channels-last ``(batch, height, width, num_channels)`` arrays (Keras' layout)
    are accepted too: detected when only the last axis has ``num_channels`` entries, or named
    with ``data_format="channels_last"``; a shape that fits both layouts raises an error
    asking for ``data_format``.
    """

    config_class = ViTConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"
    main_input_rank = 4

    @property
    def dummy_inputs(self) -> dict[str, np.ndarray]:
        height, width = as_pair(self.config.image_size)
        rng = np.random.default_rng(0)
        return {"pixel_values": rng.standard_normal((2, self.config.num_channels, height, width)).astype("float32")}

    def input_id_limits(self) -> dict:
        return {}  # no token ids

    def validate_inputs(self, inputs, caller=None) -> None:
        pixel_values = inputs.get("pixel_values")
        if pixel_values is not None and not hasattr(pixel_values, "shape"):
            pixel_values = np.asarray(pixel_values)
        if pixel_values is not None:
            if isinstance(pixel_values, np.ndarray) and pixel_values.dtype.kind not in "fiu":
                raise InvalidInputError(
                    f"pixel_values must be numbers (float32), got {pixel_values.dtype}: "
                    "use the image processor's output (processor(images, return_tensors='np'))."
                )
            channels_first_pixel_values(pixel_values, self.config.num_channels, inputs.get("data_format"))

    def pixels(self, pixel_values, data_format):
        pixel_values = channels_first_pixel_values(pixel_values, self.config.num_channels, data_format)
        return ops.cast(pixel_values, self.compute_dtype)

    def encode(
        self,
        pixel_values,
        data_format=None,
        bool_masked_pos=None,
        interpolate_pos_encoding=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        main = getattr(self, self.base_model_prefix)
        return main(
            self.pixels(pixel_values, data_format),
            bool_masked_pos=bool_masked_pos,
            interpolate_pos_encoding=interpolate_pos_encoding,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )


class TFViTModel(TFViTPreTrainedModel):
    """The bare ViT encoder: last_hidden_state (after the final layernorm) and the tanh pooler output.

    Example:
        >>> model = TFViTModel.from_pretrained("path/to/vit")
        >>> model(processor(images, return_tensors="np")).last_hidden_state.shape  # (batch, 197, 768)
    """

    torch_module_names = {"vit": ""}  # PyTorch's ViTModel has no "vit." prefix

    def __init__(self, config, add_pooling_layer: bool = True, **kwargs):
        super().__init__(config, **kwargs)
        self.vit = ViTMainLayer(config, add_pooling_layer=add_pooling_layer, name="vit")

    def call(
        self,
        pixel_values=None,
        interpolate_pos_encoding=None,
        output_attentions=None,
        output_hidden_states=None,
        data_format=None,
        training=False,
    ):
        return self.encode(
            pixel_values,
            data_format,
            interpolate_pos_encoding=interpolate_pos_encoding,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )


def image_classification_loss(config, labels, logits):
    """transformers' image-classification loss: cross-entropy, BCE (multi-label) or MSE (num_labels == 1).

    Example:
        >>> image_classification_loss(model.config, np.array([3, 1]), logits)
    """
    return losses.sequence_classification_loss(config, labels, logits)


class TFViTForImageClassification(TFViTPreTrainedModel):
    """ViT with a linear classifier on the final [CLS] state (single-label, multi-label or regression).

    Example:
        >>> model = TFViTForImageClassification.from_pretrained("path/to/vit", num_labels=10,
        ...                                                     ignore_mismatched_sizes=True)
        >>> model.compile(optimizer="adam", metrics=["accuracy"])
        >>> model.fit(processor(images, return_tensors="np"), labels)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.vit = ViTMainLayer(config, add_pooling_layer=False, name="vit")
        self.classifier = dense(config.num_labels, config, "classifier") if config.num_labels > 0 else None

    def call(
        self,
        pixel_values=None,
        labels=None,
        interpolate_pos_encoding=None,
        output_attentions=None,
        output_hidden_states=None,
        data_format=None,
        training=False,
    ):
        out = self.encode(
            pixel_values,
            data_format,
            interpolate_pos_encoding=interpolate_pos_encoding,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        pooled = out.last_hidden_state[:, 0]
        logits = self.classifier(pooled) if self.classifier is not None else pooled
        loss = None if labels is None else image_classification_loss(self.config, labels, logits)
        return ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


def masked_image_modeling_loss(config, pixel_values, reconstruction, bool_masked_pos):
    """SimMIM's loss as transformers: mean L1 over the masked patches' pixels, per channel.

    ``sum(|pixels - reconstruction| * mask) / (sum(mask) + 1e-5) / num_channels``, the patch
    mask ``(batch, num_patches)`` spread over each patch's pixels.

    Example:
        >>> masked_image_modeling_loss(config, pixel_values, out.reconstruction, bool_masked_pos)
    """
    rows = as_pair(config.image_size)[0] // as_pair(config.patch_size)[0]
    patch = as_pair(config.patch_size)[0]
    mask = ops.reshape(ops.cast(bool_masked_pos, "float32"), (-1, rows, rows))
    mask = ops.repeat(ops.repeat(mask, patch, axis=1), patch, axis=2)[:, None]
    error = ops.abs(ops.cast(pixel_values, "float32") - ops.cast(reconstruction, "float32"))
    return ops.sum(error * mask) / (ops.sum(mask) + 1e-5) / config.num_channels


class MaskedImageDecoder(keras.layers.Layer):
    """SimMIM's decoder: a 1x1 convolution to ``encoder_stride**2 * num_channels``, then PixelShuffle."""

    torch_module_names = {"conv": "0"}

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.stride = config.encoder_stride
        self.num_channels = config.num_channels
        self.conv = PatchProjection(
            config.hidden_size, config.encoder_stride**2 * config.num_channels, 1, config.initializer_range, name="0"
        )

    def call(self, grid):  # grid: (batch, hidden, rows, cols), channels-first as PyTorch's
        return pixel_shuffle(self.conv(grid), self.stride, self.num_channels)


class TFViTForMaskedImageModeling(TFViTPreTrainedModel):
    """ViT with SimMIM's decoder: reconstructs the pixels; ``bool_masked_pos`` marks the masked patches.

    The loss (with ``bool_masked_pos``) is the mean L1 error over masked pixels; it needs
    ``config.patch_size == config.encoder_stride`` (the reconstruction's size), as transformers.

    Example:
        >>> model = TFViTForMaskedImageModeling.from_pretrained("path/to/vit")
        >>> out = model(pixel_values, bool_masked_pos=np.random.randint(0, 2, (1, 196)).astype(bool))
        >>> out.loss, out.reconstruction.shape  # (1, 3, 224, 224)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.vit = ViTMainLayer(config, add_pooling_layer=False, use_mask_token=True, name="vit")
        self.decoder = MaskedImageDecoder(config, name="decoder")

    def call(
        self,
        pixel_values=None,
        bool_masked_pos=None,
        interpolate_pos_encoding=None,
        output_attentions=None,
        output_hidden_states=None,
        data_format=None,
        training=False,
    ):
        if bool_masked_pos is not None and as_pair(self.config.patch_size)[0] != self.config.encoder_stride:
            raise ConfigError(
                "When bool_masked_pos is given, patch_size must equal encoder_stride so the reconstruction has "
                f"the input's size; got patch_size={self.config.patch_size}, "
                f"encoder_stride={self.config.encoder_stride}."
            )
        pixel_values = self.pixels(pixel_values, data_format)
        main = getattr(self, self.base_model_prefix)
        out = main(
            pixel_values,
            bool_masked_pos=bool_masked_pos,
            interpolate_pos_encoding=interpolate_pos_encoding,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        reconstruction = self.decoder(self.patch_grid(out.last_hidden_state))
        loss = None
        if bool_masked_pos is not None:
            loss = masked_image_modeling_loss(self.config, pixel_values, reconstruction, bool_masked_pos)
        return MaskedImageModelingOutput(
            loss=loss, reconstruction=reconstruction, hidden_states=out.hidden_states, attentions=out.attentions
        )

    num_prefix_tokens = 1

    def patch_grid(self, sequence_output):
        """(batch, prefix + rows*cols, hidden) -> (batch, hidden, side, side) as transformers (square grid)."""
        patches = sequence_output[:, self.num_prefix_tokens :]
        length, hidden = patches.shape[1], patches.shape[2]
        side = int(np.floor(length**0.5))
        if side * side != length:
            raise InvalidInputError(
                f"Masked image modeling reconstructs a square grid of patches; this image gives {length} patches. "
                "Use a square image (the model's image_size)."
            )
        batch = ops.shape(patches)[0]
        return ops.reshape(ops.transpose(patches, (0, 2, 1)), (batch, hidden, side, side))
