"""DeiT in Keras 3: ViT with a distillation token after [CLS], and its heads.

The encoder is ViT's (kerasformers.models.vit.modeling_vit); DeiT adds a learned
``distillation_token`` (so two prefix tokens and ``num_patches + 2`` positions), reads its
classifier from [CLS], and its teacher-distilled head averages a [CLS] classifier and a
distillation-token classifier. Checkpoint names are transformers' (``deit.embeddings.
distillation_token``, ``cls_classifier``, ``distillation_classifier``).
"""

from __future__ import annotations

from keras import ops

from kerasformers.models.deit.configuration_deit import DeiTConfig
from kerasformers.models.vit.modeling_vit import (
    MaskedImageDecoder,
    TFViTForImageClassification,
    TFViTForMaskedImageModeling,
    TFViTModel,
    TFViTPreTrainedModel,
    ViTEmbeddings,
    ViTMainLayer,
    dense,
)
from kerasformers.outputs import ModelOutput

__all__ = [
    "TFDeiTPreTrainedModel",
    "TFDeiTModel",
    "TFDeiTForImageClassification",
    "TFDeiTForImageClassificationWithTeacher",
    "TFDeiTForImageClassificationWithTeacherOutput",
    "TFDeiTForMaskedImageModeling",
]


class DeiTEmbeddings(ViTEmbeddings):
    """[CLS], the distillation token, patch embeddings (+ [MASK]) and ``num_patches + 2`` positions."""

    num_prefix_tokens = 2

    def add_prefix_weights(self, init, hidden):
        self.distillation_token = self.add_weight(shape=(1, 1, hidden), initializer="zeros", name="distillation_token")

    def prefix_tokens(self, batch):
        tokens = ops.concatenate([self.cls_token, self.distillation_token], axis=1)
        return ops.broadcast_to(tokens, (batch, 2, self.config.hidden_size))


class DeiTMainLayer(ViTMainLayer):
    embeddings_class = DeiTEmbeddings


class TFDeiTPreTrainedModel(TFViTPreTrainedModel):
    """Base of the DeiT models (``pixel_values`` as for ViT, channels-last detected the same way)."""

    config_class = DeiTConfig
    base_model_prefix = "deit"


class TFDeiTModel(TFDeiTPreTrainedModel):
    """The bare DeiT encoder: last_hidden_state ([CLS], distillation token, patches) and the pooler output.

    Example:
        >>> model = TFDeiTModel.from_pretrained("path/to/deit")
        >>> model(processor(images, return_tensors="np")).last_hidden_state.shape  # (batch, 198, 768)
    """

    torch_module_names = {"deit": ""}  # PyTorch's DeiTModel has no "deit." prefix
    call = TFViTModel.call

    def __init__(self, config, add_pooling_layer: bool = True, **kwargs):
        super().__init__(config, **kwargs)
        self.deit = DeiTMainLayer(config, add_pooling_layer=add_pooling_layer, name="deit")


class TFDeiTForImageClassification(TFDeiTPreTrainedModel):
    """DeiT with a linear classifier on the final [CLS] state (single-label, multi-label or regression loss).

    Example:
        >>> model = TFDeiTForImageClassification.from_pretrained("path/to/deit", num_labels=10,
        ...                                                      ignore_mismatched_sizes=True)
    """

    call = TFViTForImageClassification.call

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.deit = DeiTMainLayer(config, add_pooling_layer=False, name="deit")
        self.classifier = dense(config.num_labels, config, "classifier") if config.num_labels > 0 else None


class TFDeiTForImageClassificationWithTeacherOutput(ModelOutput):
    """logits (the mean of the two heads), cls_logits, distillation_logits, hidden_states, attentions.

    Example:
        >>> out = model(pixel_values)
        >>> np.allclose(out.logits, (out.cls_logits + out.distillation_logits) / 2)
        True
    """

    fields = ("logits", "cls_logits", "distillation_logits", "hidden_states", "attentions")


class TFDeiTForImageClassificationWithTeacher(TFDeiTPreTrainedModel):
    """DeiT with a [CLS] classifier and a distillation-token classifier; logits are their mean (inference only,
    as in transformers: no loss).

    Example:
        >>> out = TFDeiTForImageClassificationWithTeacher.from_pretrained("path/to/deit")(pixel_values)
        >>> out.logits.shape, out.distillation_logits.shape
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.deit = DeiTMainLayer(config, add_pooling_layer=False, name="deit")
        self.cls_classifier = dense(config.num_labels, config, "cls_classifier") if config.num_labels > 0 else None
        self.distillation_classifier = (
            dense(config.num_labels, config, "distillation_classifier") if config.num_labels > 0 else None
        )

    def call(
        self,
        pixel_values=None,
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
        cls_state, distillation_state = out.last_hidden_state[:, 0], out.last_hidden_state[:, 1]
        cls_logits = self.cls_classifier(cls_state) if self.cls_classifier is not None else cls_state
        distillation_logits = (
            self.distillation_classifier(distillation_state)
            if self.distillation_classifier is not None
            else distillation_state
        )
        return TFDeiTForImageClassificationWithTeacherOutput(
            logits=(cls_logits + distillation_logits) / 2,
            cls_logits=cls_logits,
            distillation_logits=distillation_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )


class TFDeiTForMaskedImageModeling(TFDeiTPreTrainedModel):
    """DeiT with SimMIM's decoder (as :class:`TFViTForMaskedImageModeling`; both prefix tokens are dropped).

    Example:
        >>> out = TFDeiTForMaskedImageModeling.from_pretrained("path/to/deit")(pixel_values, bool_masked_pos=mask)
        >>> out.reconstruction.shape  # (batch, 3, 224, 224)
    """

    num_prefix_tokens = 2
    call = TFViTForMaskedImageModeling.call
    patch_grid = TFViTForMaskedImageModeling.patch_grid

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        self.deit = DeiTMainLayer(config, add_pooling_layer=False, use_mask_token=True, name="deit")
        self.decoder = MaskedImageDecoder(config, name="decoder")
