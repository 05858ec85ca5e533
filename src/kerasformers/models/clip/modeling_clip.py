"""CLIP in Keras 3: a causal text transformer and a ViT image tower, projected into one space.

The text tower pools the hidden state at the end-of-text token; the vision tower pools its class
token after ``post_layernorm``. :class:`TFCLIPModel` normalises both projections and scales their
cosine similarities by ``exp(logit_scale)``. Layer attribute names follow PyTorch's module names
(``text_model.encoder.layers.0.self_attn.q_proj``), so checkpoints load by name.

``pixel_values`` is channels-first, (batch, num_channels, height, width), as in transformers.
Channels-last Keras image batches, (batch, height, width, num_channels), are accepted too: a
4-D input whose last axis (and not its second) has ``num_channels`` entries is transposed first.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasformers.activations import get_activation
from kerasformers.errors import ConfigError, InvalidInputError
from kerasformers.layers import mask_value
from kerasformers.layers.dropout import Dropout
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.clip.configuration_clip import CLIPConfig, CLIPTextConfig, CLIPVisionConfig
from kerasformers.outputs import ModelOutput, TFBaseModelOutputWithPooling

__all__ = [
    "TFCLIPModel",
    "TFCLIPOutput",
    "TFCLIPPreTrainedModel",
    "TFCLIPTextModel",
    "TFCLIPVisionModel",
    "clip_contrastive_loss",
]


class TFCLIPOutput(ModelOutput):
    """Outputs of :class:`TFCLIPModel` (transformers' TFCLIPOutput fields).

    ``logits_per_image`` is (images, texts): softmax over its last axis gives each image's
    label probabilities. ``text_model_output`` / ``vision_model_output`` are the towers' outputs.

    Example:
        >>> out = model(input_ids=ids, pixel_values=pixels)
        >>> probs = keras.ops.softmax(out.logits_per_image, axis=-1)
    """

    fields = (
        "loss",
        "logits_per_image",
        "logits_per_text",
        "text_embeds",
        "image_embeds",
        "text_model_output",
        "vision_model_output",
    )


def clip_contrastive_loss(logits_per_text):
    """CLIP's symmetric loss: the mean of the text->image and image->text cross-entropies.

    Row ``i`` of ``logits_per_text`` (texts, images) should pick image ``i``.

    Example:
        >>> clip_contrastive_loss(out.logits_per_text)
    """
    texts, images = tuple(logits_per_text.shape)
    if texts is not None and images is not None and texts != images:
        raise InvalidInputError(
            f"The contrastive loss pairs text i with image i, but there are {texts} texts and {images} images. "
            "Give as many texts as images for return_loss=True."
        )
    logits = ops.cast(logits_per_text, "float32")
    targets = ops.arange(ops.shape(logits)[0], dtype="int32")

    def cross_entropy(scores):
        return ops.mean(keras.losses.sparse_categorical_crossentropy(targets, scores, from_logits=True))

    return (cross_entropy(logits) + cross_entropy(ops.transpose(logits))) / 2.0


def _normal(config, scale=1.0):
    return keras.initializers.RandomNormal(stddev=config.initializer_range * scale)


def _layer_norm(config, name):
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)


def channels_first_pixels(pixel_values, num_channels: int, image_size: int | None = None):
    """``pixel_values`` as (batch, channels, height, width), transposing a channels-last batch.

    One clear error for a wrong rank or a size the model was not built for.

    Example:
        >>> channels_first_pixels(np.zeros((2, 224, 224, 3), "float32"), 3).shape
        TensorShape([2, 3, 224, 224])
    """
    shape = tuple(pixel_values.shape)
    if len(shape) != 4:
        raise InvalidInputError(
            f"pixel_values must have shape (batch_size, num_channels, height, width), got shape {shape}. "
            + ("Wrap a single image in a batch: pixel_values[None]." if len(shape) == 3 else "")
        )
    if shape[1] != num_channels and shape[-1] == num_channels:
        pixel_values = ops.transpose(pixel_values, (0, 3, 1, 2))  # channels-last Keras images
        shape = tuple(pixel_values.shape)
    if shape[1] is not None and shape[1] != num_channels:
        raise InvalidInputError(
            f"pixel_values has {shape[1]} channels but the model takes {num_channels} (num_channels). "
            "Convert the images (e.g. PIL's image.convert('RGB')) before the image processor."
        )
    if image_size is not None and None not in shape[2:] and tuple(shape[2:]) != (image_size, image_size):
        raise InvalidInputError(
            f"Input image size ({shape[2]}*{shape[3]}) doesn't match model ({image_size}*{image_size}). "
            "Resize with the model's image processor (CLIPImageProcessor.from_pretrained(checkpoint))."
        )
    return pixel_values


# ---------------------------------------------------------------------------------------------
# embeddings


class CLIPPatchEmbedding(keras.layers.Layer):
    """Non-overlapping patches projected to ``hidden_size``: PyTorch's Conv2d(kernel = stride = patch, no bias).

    The weight keeps PyTorch's (out_channels, in_channels, patch, patch) layout; the patches are
    cut with reshapes and projected with one matmul (the same sums as the convolution).
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = config.hidden_size
        self.num_channels = config.num_channels
        self.patch_size = config.patch_size
        self.initializer_range = config.initializer_range

    def build(self, input_shape):
        shape = (self.hidden_size, self.num_channels, self.patch_size, self.patch_size)
        init = keras.initializers.RandomNormal(stddev=self.initializer_range)
        self.weight = self.add_weight(shape=shape, initializer=init, name="weight")
        self.built = True

    def call(self, pixel_values):
        p = self.patch_size
        batch, channels, height, width = ops.shape(pixel_values)
        rows, cols = height // p, width // p
        patches = ops.reshape(pixel_values, (batch, channels, rows, p, cols, p))
        patches = ops.transpose(patches, (0, 2, 4, 1, 3, 5))  # (batch, rows, cols, channels, p, p)
        patches = ops.reshape(patches, (batch, rows * cols, channels * p * p))
        kernel = ops.reshape(self.weight, (self.hidden_size, channels * p * p))
        return ops.matmul(patches, ops.transpose(kernel))


class CLIPVisionEmbeddings(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.num_positions = (config.image_size // config.patch_size) ** 2 + 1
        self.patch_embedding = CLIPPatchEmbedding(config, name="patch_embedding")
        self.position_embedding = keras.layers.Embedding(
            self.num_positions, config.hidden_size, embeddings_initializer=_normal(config), name="position_embedding"
        )

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=self.config.hidden_size**-0.5)
        self.class_embedding = self.add_weight(
            shape=(self.config.hidden_size,), initializer=init, name="class_embedding"
        )
        self.built = True

    def call(self, pixel_values):
        patches = self.patch_embedding(ops.cast(pixel_values, self.compute_dtype))
        batch = ops.shape(patches)[0]
        cls = ops.broadcast_to(
            ops.cast(self.class_embedding, patches.dtype)[None, None, :], (batch, 1, ops.shape(patches)[-1])
        )
        embeddings = ops.concatenate([cls, patches], axis=1)
        return embeddings + self.position_embedding(ops.arange(self.num_positions, dtype="int32"))[None]


class CLIPTextEmbeddings(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = keras.layers.Embedding(
            config.vocab_size, config.hidden_size, embeddings_initializer=_normal(config), name="token_embedding"
        )
        self.position_embedding = keras.layers.Embedding(
            config.max_position_embeddings,
            config.hidden_size,
            embeddings_initializer=_normal(config),
            name="position_embedding",
        )

    def call(self, input_ids, position_ids=None):
        if position_ids is None:
            position_ids = ops.arange(ops.shape(input_ids)[-1], dtype="int32")[None, :]
        return self.token_embedding(input_ids) + self.position_embedding(position_ids)


# ---------------------------------------------------------------------------------------------
# the encoder both towers share


class CLIPAttention(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        if config.hidden_size % config.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({config.hidden_size}) must be a multiple of "
                f"num_attention_heads ({config.num_attention_heads})."
            )
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.scale = self.head_dim**-0.5
        init = _normal(config)
        self.k_proj = keras.layers.Dense(config.hidden_size, kernel_initializer=init, name="k_proj")
        self.v_proj = keras.layers.Dense(config.hidden_size, kernel_initializer=init, name="v_proj")
        self.q_proj = keras.layers.Dense(config.hidden_size, kernel_initializer=init, name="q_proj")
        self.out_proj = keras.layers.Dense(config.hidden_size, kernel_initializer=init, name="out_proj")
        self.dropout = Dropout(config.attention_dropout)

    def _heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def call(self, hidden_states, keep=None, output_attentions=False, training=False):
        query = self._heads(self.q_proj(hidden_states))
        key = self._heads(self.k_proj(hidden_states))
        value = self._heads(self.v_proj(hidden_states))
        scores = ops.cast(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), "float32") * self.scale
        if keep is not None:
            scores = ops.where(keep, scores, mask_value("float32"))
        probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        context = ops.matmul(self.dropout(probs, training=training), value)
        batch, length = ops.shape(hidden_states)[0], ops.shape(hidden_states)[1]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, length, -1))
        return self.out_proj(context), (probs if output_attentions else None)


class CLIPMLP(keras.layers.Layer):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        init = _normal(config)
        self.fc1 = keras.layers.Dense(config.intermediate_size, kernel_initializer=init, name="fc1")
        self.fc2 = keras.layers.Dense(config.hidden_size, kernel_initializer=init, name="fc2")
        self.activation_fn = get_activation(config.hidden_act)

    def call(self, hidden_states):
        return self.fc2(self.activation_fn(self.fc1(hidden_states)))


class CLIPEncoderLayer(keras.layers.Layer):
    """Pre-norm block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = CLIPAttention(config, name="self_attn")
        self.layer_norm1 = _layer_norm(config, "layer_norm1")
        self.mlp = CLIPMLP(config, name="mlp")
        self.layer_norm2 = _layer_norm(config, "layer_norm2")

    def call(self, hidden_states, keep=None, output_attentions=False, training=False):
        attended, probs = self.self_attn(
            self.layer_norm1(hidden_states), keep, output_attentions=output_attentions, training=training
        )
        hidden_states = hidden_states + attended
        return hidden_states + self.mlp(self.layer_norm2(hidden_states)), probs


class CLIPEncoder(keras.layers.Layer):
    torch_module_names = {"blocks": "layers"}  # Keras models reserve ``layers``

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [CLIPEncoderLayer(config, name=f"layers_{i}") for i in range(config.num_hidden_layers)]

    def call(self, hidden_states, keep=None, output_attentions=False, output_hidden_states=False, training=False):
        all_hidden = [] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for block in self.blocks:
            if output_hidden_states:
                all_hidden.append(hidden_states)
            hidden_states, probs = block(hidden_states, keep, output_attentions=output_attentions, training=training)
            if output_attentions:
                all_attentions.append(probs)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        return hidden_states, all_hidden, all_attentions


# ---------------------------------------------------------------------------------------------
# the towers


class CLIPTextTransformer(keras.layers.Layer):
    """Token + position embeddings, a causal encoder, the final LayerNorm, end-of-text pooling."""

    def __init__(self, config: CLIPTextConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = CLIPTextEmbeddings(config, name="embeddings")
        self.encoder = CLIPEncoder(config, name="encoder")
        self.final_layer_norm = _layer_norm(config, "final_layer_norm")

    def pooled_positions(self, input_ids):
        """Each row's end-of-text position: the first ``eos_token_id`` (the largest id for old configs)."""
        ids = ops.cast(input_ids, "int32")
        length = ops.shape(ids)[-1]
        if self.config.eos_token_id == 2:  # configs before transformers PR #24773: eot is the largest id
            match = ids == ops.max(ids, axis=-1, keepdims=True)
        else:
            match = ids == self.config.eos_token_id
        positions = ops.arange(length, dtype="int32")[None, :]
        # the first match (the whole length when there is none; the gather clamps to the last position)
        first = ops.min(ops.where(match, positions, length), axis=-1)
        return (
            ops.minimum(first, length - 1)
            if self.config.eos_token_id == 2
            else ops.where(ops.any(match, axis=-1), first, 0)
        )

    def call(
        self,
        input_ids,
        attention_mask=None,
        position_ids=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        hidden = self.embeddings(input_ids, position_ids=position_ids)
        length = ops.shape(hidden)[1]
        index = ops.arange(length, dtype="int32")
        keep = (index[None, :] <= index[:, None])[None, None]  # causal
        if attention_mask is not None:
            keep = ops.logical_and(keep, ops.cast(attention_mask, "bool")[:, None, None, :])
        hidden, all_hidden, all_attentions = self.encoder(
            hidden,
            keep,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        hidden = self.final_layer_norm(hidden)
        positions = self.pooled_positions(input_ids)
        pooled = ops.take_along_axis(hidden, positions[:, None, None], axis=1)[:, 0]
        return TFBaseModelOutputWithPooling(
            last_hidden_state=hidden,
            pooler_output=pooled,
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


class CLIPVisionTransformer(keras.layers.Layer):
    """Patch + class embeddings, ``pre_layrnorm`` (PyTorch's spelling), the encoder, class-token pooling."""

    def __init__(self, config: CLIPVisionConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = CLIPVisionEmbeddings(config, name="embeddings")
        self.pre_layrnorm = _layer_norm(config, "pre_layrnorm")
        self.encoder = CLIPEncoder(config, name="encoder")
        self.post_layernorm = _layer_norm(config, "post_layernorm")

    def call(self, pixel_values, output_attentions=False, output_hidden_states=False, training=False):
        pixel_values = channels_first_pixels(pixel_values, self.config.num_channels, self.config.image_size)
        hidden = self.pre_layrnorm(self.embeddings(pixel_values))
        hidden, all_hidden, all_attentions = self.encoder(
            hidden,
            None,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        return TFBaseModelOutputWithPooling(
            last_hidden_state=hidden,
            pooler_output=self.post_layernorm(hidden[:, 0]),
            hidden_states=tuple(all_hidden) if all_hidden else None,
            attentions=tuple(all_attentions) if all_attentions else None,
        )


# ---------------------------------------------------------------------------------------------
# models


class TFCLIPPreTrainedModel(TFPreTrainedModel):
    """Base class of the CLIP models (loading, saving, the text tower's input checks)."""

    config_class = CLIPConfig
    base_model_prefix = "clip"

    def _text_config(self):
        return self.config.text_config if isinstance(self.config, CLIPConfig) else self.config

    def input_id_limits(self):
        text = self._text_config()
        return {
            "input_ids": (text.vocab_size, "text_config.vocab_size"),
            "position_ids": (text.max_position_embeddings, "text_config.max_position_embeddings"),
        }

    @property
    def max_input_length(self):
        return self._text_config().max_position_embeddings

    def _flags(self, output_attentions, output_hidden_states):
        return (
            bool(output_attentions or self.config.output_attentions),
            bool(output_hidden_states or self.config.output_hidden_states),
        )


def _dummy_pixels(config):
    return keras.ops.zeros((1, config.num_channels, config.image_size, config.image_size))


class TFCLIPTextModel(TFCLIPPreTrainedModel):
    """CLIP's text tower without projection: last_hidden_state and the end-of-text pooled state.

    Example:
        >>> model = TFCLIPTextModel.from_pretrained("path/to/clip")  # a whole CLIP checkpoint works too
        >>> out = model(tokenizer(["a photo of a cat"], padding=True, return_tensors="np"))
        >>> out.pooler_output.shape
    """

    config_class = CLIPTextConfig
    base_model_prefix = "text_model"  # a CLIPModel checkpoint's text tower loads here
    torch_module_names = {"text_model": ""}  # PyTorch's CLIPTextModel saves without the prefix
    keys_to_ignore_on_load_unexpected = (
        r"^vision_model\.",
        r"^visual_projection\.",
        r"^text_projection\.",
        r"^logit_scale$",
    )

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.text_model = CLIPTextTransformer(config, name="text_model")

    def get_input_embeddings(self):
        return self.text_model.embeddings.token_embedding

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        if input_ids is None:
            raise InvalidInputError("TFCLIPTextModel needs input_ids (tokenize the texts with the CLIP tokenizer).")
        attentions, hidden = self._flags(output_attentions, output_hidden_states)
        return self.text_model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            output_attentions=attentions,
            output_hidden_states=hidden,
            training=training,
        )


class TFCLIPVisionModel(TFCLIPPreTrainedModel):
    """CLIP's vision tower without projection: last_hidden_state and the pooled class token.

    Example:
        >>> model = TFCLIPVisionModel.from_pretrained("path/to/clip")
        >>> model(processor(images=image, return_tensors="np")).pooler_output.shape
    """

    config_class = CLIPVisionConfig
    base_model_prefix = "vision_model"
    torch_module_names = {"vision_model": ""}
    main_input_name = "pixel_values"
    keys_to_ignore_on_load_unexpected = (
        r"^text_model\.",
        r"^visual_projection\.",
        r"^text_projection\.",
        r"^logit_scale$",
    )

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.vision_model = CLIPVisionTransformer(config, name="vision_model")

    @property
    def dummy_inputs(self):
        return {"pixel_values": _dummy_pixels(self.config)}

    def input_id_limits(self):
        return {}

    @property
    def max_input_length(self):
        return None

    def get_input_embeddings(self):
        return self.vision_model.embeddings.patch_embedding

    def call(self, pixel_values=None, output_attentions=None, output_hidden_states=None, training=False):
        if pixel_values is None:
            raise InvalidInputError("TFCLIPVisionModel needs pixel_values (from CLIPImageProcessor).")
        attentions, hidden = self._flags(output_attentions, output_hidden_states)
        return self.vision_model(
            pixel_values, output_attentions=attentions, output_hidden_states=hidden, training=training
        )


class TFCLIPModel(TFCLIPPreTrainedModel):
    """CLIP: both towers, their projections and the learned temperature ``logit_scale``.

    ``return_loss=True`` adds the symmetric contrastive loss (texts[i] pairs with images[i]).

    Example:
        >>> model = TFCLIPModel.from_pretrained("path/to/clip")
        >>> inputs = processor(text=["a cat", "a dog"], images=image, return_tensors="np", padding=True)
        >>> probs = keras.ops.softmax(model(**inputs).logits_per_image, axis=-1)
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        text, vision = config.text_config, config.vision_config
        self.text_model = CLIPTextTransformer(text, name="text_model")
        self.vision_model = CLIPVisionTransformer(vision, name="vision_model")
        self.visual_projection = keras.layers.Dense(
            config.projection_dim,
            use_bias=False,
            kernel_initializer=keras.initializers.RandomNormal(stddev=vision.hidden_size**-0.5),
            name="visual_projection",
        )
        self.text_projection = keras.layers.Dense(
            config.projection_dim,
            use_bias=False,
            kernel_initializer=keras.initializers.RandomNormal(stddev=text.hidden_size**-0.5),
            name="text_projection",
        )
        self.logit_scale = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(config.logit_scale_init_value), name="logit_scale"
        )

    @property
    def dummy_inputs(self):
        return {
            "input_ids": super().dummy_inputs["input_ids"] % self.config.text_config.vocab_size,
            "pixel_values": _dummy_pixels(self.config.vision_config),
        }

    def get_input_embeddings(self):
        return self.text_model.embeddings.token_embedding

    def get_text_features(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        return_dict=None,
        training=False,
    ):
        """The projected end-of-text states, (batch, projection_dim), as transformers' TF side returned them.

        Example:
            >>> features = model.get_text_features(**tokenizer(["a cat"], return_tensors="np"))
        """
        if not self.built:
            self.build_with_dummy_inputs()
        arrays = {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}
        self.validate_inputs({k: v for k, v in arrays.items() if v is not None}, "get_text_features")
        out = self.text_model(
            ops.convert_to_tensor(input_ids),
            attention_mask=None if attention_mask is None else ops.convert_to_tensor(attention_mask),
            position_ids=None if position_ids is None else ops.convert_to_tensor(position_ids),
            training=training,
        )
        return self.text_projection(out.pooler_output)

    def get_image_features(
        self, pixel_values=None, output_attentions=None, output_hidden_states=None, return_dict=None, training=False
    ):
        """The projected class-token states, (batch, projection_dim), as transformers' TF side returned them.

        Example:
            >>> features = model.get_image_features(**processor(images=image, return_tensors="np"))
        """
        if not self.built:
            self.build_with_dummy_inputs()
        out = self.vision_model(ops.convert_to_tensor(pixel_values, dtype=self.compute_dtype), training=training)
        return self.visual_projection(out.pooler_output)

    def call(
        self,
        input_ids=None,
        pixel_values=None,
        attention_mask=None,
        position_ids=None,
        return_loss=None,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        if input_ids is None or pixel_values is None:
            raise InvalidInputError(
                "TFCLIPModel needs both input_ids and pixel_values; for one modality use get_text_features / "
                "get_image_features (or TFCLIPTextModel / TFCLIPVisionModel)."
            )
        attentions, hidden = self._flags(output_attentions, output_hidden_states)
        vision_out = self.vision_model(
            pixel_values, output_attentions=attentions, output_hidden_states=hidden, training=training
        )
        text_out = self.text_model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            output_attentions=attentions,
            output_hidden_states=hidden,
            training=training,
        )
        image_embeds = self.visual_projection(vision_out.pooler_output)
        text_embeds = self.text_projection(text_out.pooler_output)
        image_embeds = image_embeds / ops.sqrt(ops.sum(ops.square(image_embeds), axis=-1, keepdims=True))
        text_embeds = text_embeds / ops.sqrt(ops.sum(ops.square(text_embeds), axis=-1, keepdims=True))
        scale = ops.exp(ops.cast(self.logit_scale, text_embeds.dtype))
        logits_per_text = ops.matmul(text_embeds, ops.transpose(image_embeds)) * scale
        logits_per_image = ops.transpose(logits_per_text)
        return TFCLIPOutput(
            loss=clip_contrastive_loss(logits_per_text) if return_loss else None,
            logits_per_image=logits_per_image,
            logits_per_text=logits_per_text,
            text_embeds=text_embeds,
            image_embeds=image_embeds,
            text_model_output=text_out,
            vision_model_output=vision_out,
        )
