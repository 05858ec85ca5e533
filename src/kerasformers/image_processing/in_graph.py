"""The image processor as a Keras layer of TensorFlow ops: encoded JPEG/PNG bytes in, pixel_values out.

For export (a SavedModel that takes image files) and tf.data pipelines. It decodes, resizes
(``tf.image.resize`` with antialiasing, the closest TF has to PIL's filters, then rounded to
uint8 as PIL's output is), center crops, rescales and normalizes as the Python processor it is
built from. It is not bit-identical to PIL: tests/test_image_processing.py states the
difference on real photos and its effect on a model's logits.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.image_processing.base import RESAMPLE_NAMES, BaseImageProcessor

__all__ = ["TFImageProcessorLayer"]

_TF_METHODS = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic", "lanczos": "lanczos3", "box": "area"}


class TFImageProcessorLayer(keras.layers.Layer):
    """``processor``'s steps in TF ops. Input: a ``tf.string`` batch of encoded images (JPEG, PNG, BMP,
    GIF first frame) or a uint8 batch ``(batch, height, width, 3)``. Output: float32 ``pixel_values``
    ``(batch, 3, height, width)`` (``data_format="channels_last"``: ``(batch, height, width, 3)``).

    Images are converted to RGB (PNG transparency is dropped, not composited: pass opaque
    images for results closest to the Python processor).

    Example:
        >>> layer = TFImageProcessorLayer.from_processor(ViTImageProcessor())
        >>> layer(tf.constant([open("cat.jpg", "rb").read()])).shape
        TensorShape([1, 3, 224, 224])
    """

    def __init__(self, settings: dict | None = None, data_format: str = "channels_first", **kwargs):
        super().__init__(**kwargs)
        settings = dict(settings or {})
        self.settings = settings
        self.data_format = data_format
        if data_format not in ("channels_first", "channels_last"):
            raise InvalidInputError(f"data_format must be 'channels_first' or 'channels_last', got {data_format!r}.")
        size = settings.get("size") or {"height": 224, "width": 224}
        if "height" not in size:
            self.shortest_edge = int(size["shortest_edge"])
            self.size = None
        else:
            self.shortest_edge = None
            self.size = (int(size["height"]), int(size["width"]))
        crop = settings.get("crop_size") if settings.get("do_center_crop") else None
        self.crop = (int(crop["height"]), int(crop["width"])) if crop else None
        if self.size is None and self.crop is None:
            raise InvalidInputError("A shortest_edge resize needs a center crop to give one output size.")
        resample = RESAMPLE_NAMES.get(int(settings.get("resample", 2)), "bilinear")
        self.method = _TF_METHODS.get(resample, "bilinear")
        self.do_resize = settings.get("do_resize", True)
        self.scale = float(settings.get("rescale_factor", 1 / 255)) if settings.get("do_rescale", True) else 1.0
        mean, std = settings.get("image_mean", [0.5] * 3), settings.get("image_std", [0.5] * 3)
        normalize = settings.get("do_normalize", True)
        self.mean = np.broadcast_to(np.asarray(mean if normalize else 0.0, np.float32), (3,)).copy()
        self.std = np.broadcast_to(np.asarray(std if normalize else 1.0, np.float32), (3,)).copy()

    @classmethod
    def from_processor(cls, processor: BaseImageProcessor, **kwargs) -> "TFImageProcessorLayer":
        """The layer for a Python image processor's settings.

        Example:
            >>> TFImageProcessorLayer.from_processor(AutoImageProcessor.from_pretrained("path/to/vit"))
        """
        return cls(processor.to_dict(), **kwargs)

    def get_config(self) -> dict:
        settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.settings.items()}
        return {**super().get_config(), "settings": settings, "data_format": self.data_format}

    def _one_image(self, image):
        import tensorflow as tf

        if image.dtype == tf.string:
            # JPEG with libjpeg's accurate integer DCT, as PIL decodes it: TF's default (the fast DCT)
            # is up to ~12 uint8 levels off PIL's pixels
            encoded = image
            image = tf.cond(
                tf.io.is_jpeg(encoded),
                lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
                lambda: tf.io.decode_image(encoded, channels=3, expand_animations=False),
            )
        image = tf.ensure_shape(image, (None, None, 3))
        if self.do_resize:
            if self.size is not None:
                target = tf.constant(self.size, tf.int32)
            else:
                shape = tf.cast(tf.shape(image)[:2], tf.float32)
                short = tf.reduce_min(shape)
                target = tf.cast(tf.floor(shape / short * self.shortest_edge), tf.int32)
                target = tf.where(shape == short, self.shortest_edge, target)
            resized = tf.image.resize(tf.cast(image, tf.float32), target, method=self.method, antialias=True)
            image = tf.clip_by_value(tf.round(resized), 0.0, 255.0)  # PIL gives uint8
        image = tf.cast(image, tf.float32)
        if self.crop is not None:
            height, width = tf.shape(image)[0], tf.shape(image)[1]
            top, left = (height - self.crop[0]) // 2, (width - self.crop[1]) // 2
            image = tf.image.pad_to_bounding_box(
                image,
                tf.maximum(-top, 0),
                tf.maximum(-left, 0),
                tf.maximum(height, self.crop[0]),
                tf.maximum(width, self.crop[1]),
            )
            image = image[tf.maximum(top, 0) :, tf.maximum(left, 0) :][: self.crop[0], : self.crop[1]]
        out_height, out_width = self.crop or self.size
        image = tf.ensure_shape(image, (out_height, out_width, 3))
        return (image * self.scale - self.mean) / self.std

    def call(self, images):
        import tensorflow as tf

        images = tf.convert_to_tensor(images)
        if images.dtype != tf.string and images.shape.rank == 3:
            images = images[None]
        if images.dtype == tf.string and images.shape.rank == 0:
            images = images[None]
        out_height, out_width = self.crop or self.size
        pixels = tf.map_fn(
            self._one_image, images, fn_output_signature=tf.TensorSpec((out_height, out_width, 3), tf.float32)
        )
        if self.data_format == "channels_first":
            pixels = tf.transpose(pixels, (0, 3, 1, 2))
        return pixels
