"""Image processors: PIL resize, center crop, rescale and normalize, as transformers' slow (PIL) processors.

:class:`BaseImageProcessor` does what transformers' PIL backend does, step for step and with the
same arithmetic (PIL's resampling filters on uint8 images, rescaling in float64 then float32,
normalisation per channel), so ``pixel_values`` equal transformers' to float32 rounding. An
architecture's processor (``ViTImageProcessor``...) is a subclass that only sets defaults and
registers itself with :func:`register_image_processor_class`; :class:`AutoImageProcessor` picks
it from ``preprocessor_config.json``.

Images are PIL images, numpy arrays (``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``; uint8 0-255 or
floats), ``tf.Tensor`` / ``torch.Tensor`` holding such arrays, or paths to image files; a list
of them is a batch.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Sequence
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np

from kerasformers.errors import CheckpointNotFoundError, ConfigError, InvalidInputError, InvalidInputTypeError
from kerasformers.hub import atomic_folder_write, resolve_checkpoint

__all__ = [
    "BaseImageProcessor",
    "BatchFeature",
    "AutoImageProcessor",
    "register_image_processor_class",
    "load_image",
    "get_size_dict",
    "IMAGENET_STANDARD_MEAN",
    "IMAGENET_STANDARD_STD",
    "IMAGENET_DEFAULT_MEAN",
    "IMAGENET_DEFAULT_STD",
    "OPENAI_CLIP_MEAN",
    "OPENAI_CLIP_STD",
    "PILImageResampling",
]

IMAGE_PROCESSOR_NAME = "preprocessor_config.json"
IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406]
IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225]
IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5]
IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5]
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class PILImageResampling:
    """PIL's resampling filter numbers, under transformers' names (``resample=PILImageResampling.BICUBIC``).

    Example:
        >>> PILImageResampling.BILINEAR
        2
    """

    NEAREST = 0
    LANCZOS = 1
    BILINEAR = 2
    BICUBIC = 3
    BOX = 4
    HAMMING = 5


RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


class BatchFeature(dict):
    """The processor's output: a dict (``pixel_values``) whose keys are also attributes.

    Example:
        >>> batch = processor(images, return_tensors="np")
        >>> batch.pixel_values.shape == batch["pixel_values"].shape
        True
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def convert_to_tensors(self, tensor_type: str | None = None) -> "BatchFeature":
        """Stack each value into one ``np`` array or ``tf`` tensor (in place); returns self.

        Example:
            >>> BatchFeature({"pixel_values": [np.zeros((3, 2, 2))]}).convert_to_tensors("np")["pixel_values"].shape
            (1, 3, 2, 2)
        """
        if tensor_type is None:
            return self
        if tensor_type not in ("np", "tf"):
            raise InvalidInputError(
                f"return_tensors={tensor_type!r} is not supported here: use 'np' (numpy) or 'tf' (TensorFlow)."
            )
        for key, value in list(self.items()):
            try:
                array = np.stack(value) if isinstance(value, (list, tuple)) else np.asarray(value)
            except ValueError:
                shapes = sorted({tuple(np.shape(v)) for v in value})
                raise InvalidInputError(
                    f"The processed images have different shapes {shapes} and cannot be stacked into one batch: "
                    "resize them to one size (do_resize=True, size=...) or use return_tensors=None."
                ) from None
            if tensor_type == "tf":
                import tensorflow as tf

                array = tf.convert_to_tensor(array)
            self[key] = array
        return self


def get_size_dict(size, default_to_square: bool = True, param_name: str = "size") -> dict[str, int]:
    """transformers' size forms as a dict: ``224`` -> ``{"height": 224, "width": 224}`` (or
    ``{"shortest_edge": 224}`` with ``default_to_square=False``); ``(h, w)`` -> height/width.

    Example:
        >>> get_size_dict(224), get_size_dict(224, default_to_square=False)
        ({'height': 224, 'width': 224}, {'shortest_edge': 224})
    """
    if isinstance(size, dict):
        keys = set(size)
        allowed = ({"height", "width"}, {"shortest_edge"}, {"shortest_edge", "longest_edge"}, {"longest_edge"})
        if keys not in allowed:
            raise ConfigError(
                f"{param_name} must have keys height and width, or shortest_edge (and longest_edge); got {size}."
            )
        return {k: int(v) for k, v in size.items()}
    if isinstance(size, int):
        return {"height": size, "width": size} if default_to_square else {"shortest_edge": size}
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return {"height": int(size[0]), "width": int(size[1])}
    raise ConfigError(f"{param_name} must be an int, a (height, width) pair or a dict, got {size!r}.")


def load_image(image) -> Any:
    """A PIL image from a path to an image file; other inputs come back unchanged.

    Example:
        >>> load_image("photo.jpg").size
        (640, 427)
    """
    if isinstance(image, (str, os.PathLike)):
        text = os.fspath(image)
        if text.startswith(("http://", "https://")):
            raise InvalidInputError(
                f"Image URLs are not fetched ({text}): download the file and pass its path, or open it with PIL."
            )
        path = Path(text).expanduser()
        if not path.is_file():
            raise InvalidInputError(
                f"No image file at {path}. Pass a path to a JPEG/PNG file, a PIL image or an array."
            )
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as opened:
                opened.load()
                return opened.copy() if opened.mode != "P" else opened.convert("RGBA")
        except UnidentifiedImageError:
            raise InvalidInputError(f"{path} is not an image PIL can read (JPEG, PNG, BMP, GIF...).") from None
    return image


def _is_single_image(value) -> bool:
    from PIL import Image

    if isinstance(value, (Image.Image, str, os.PathLike)):
        return True
    if hasattr(value, "shape") and len(value.shape) in (2, 3):
        return True
    return False


def _as_image_list(images) -> list:
    """A batch (list / 4-D array) or one image -> a list of single images."""
    if _is_single_image(images):
        return [images]
    if hasattr(images, "shape") and len(images.shape) == 4:
        return list(np.asarray(images))
    if isinstance(images, (list, tuple)) and images and all(_is_single_image(i) for i in images):
        return list(images)
    raise InvalidInputTypeError(
        f"Images must be PIL images, numpy arrays of shape (H, W), (H, W, C) or (C, H, W), or paths to image "
        f"files (one, or a list of them); got {type(images).__name__}"
        + (f" of shape {tuple(images.shape)}" if hasattr(images, "shape") else "")
        + "."
    )


def infer_channel_dimension(image: np.ndarray, num_channels: Sequence[int] = (1, 3, 4)) -> str:
    """``"channels_first"`` or ``"channels_last"`` for a 3-D image, as transformers infers it (first axis wins).

    Example:
        >>> infer_channel_dimension(np.zeros((32, 32, 3)))
        'channels_last'
    """
    if image.ndim != 3:
        raise InvalidInputError(f"An image must have 2 or 3 axes, got shape {image.shape}.")
    if image.shape[0] in num_channels:
        return "channels_first"
    if image.shape[-1] in num_channels:
        return "channels_last"
    raise InvalidInputError(
        f"Cannot tell the channel axis of an image of shape {image.shape}: give (H, W, C) or (C, H, W) with "
        "1, 3 or 4 channels, or pass input_data_format='channels_last' / 'channels_first'."
    )


def convert_to_rgb(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array; transparency is composited onto white, as transformers' convert_to_rgb.

    Example:
        >>> convert_to_rgb(Image.new("RGBA", (4, 4))).shape
        (4, 4, 3)
    """
    from PIL import Image

    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[:, :, None]
        if infer_channel_dimension(array) == "channels_first":
            array = np.moveaxis(array, 0, -1)
        if array.shape[-1] == 3:
            return array
        if array.shape[-1] == 1:
            return np.repeat(array, 3, axis=-1)
        image = Image.fromarray(np.asarray(array, np.uint8), mode="RGBA")
    has_alpha = "A" in image.getbands() or image.info.get("transparency") is not None
    if has_alpha:
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(background, image).convert("RGB"))
    return np.array(image.convert("RGB"))


def _needs_rescale_for_pil(image: np.ndarray) -> bool:
    """Float images in [0, 1] are scaled to 0-255 for PIL and back after (transformers' rule)."""
    if image.dtype == np.uint8:
        return False
    if np.allclose(image, image.astype(int)):
        if np.all(image >= 0) and np.all(image <= 255):
            return False
        raise InvalidInputError(
            f"Image values must lie in [0, 255] (or [0, 1] as floats); got [{image.min()}, {image.max()}]."
        )
    if np.all(image >= 0) and np.all(image <= 1):
        return True
    raise InvalidInputError(
        f"Float image values must lie in [0, 1] (or be whole numbers in [0, 255]); got [{image.min()}, {image.max()}]."
    )


def resize(image: np.ndarray, size: tuple[int, int], resample: int = PILImageResampling.BILINEAR) -> np.ndarray:
    """Resize a channels-first image to ``size`` = (height, width) with PIL, as transformers' ``resize``.

    Example:
        >>> resize(np.zeros((3, 427, 640), np.uint8), (224, 224)).shape
        (3, 224, 224)
    """
    from PIL import Image

    scale_back = _needs_rescale_for_pil(image)
    pixels = np.moveaxis(image, 0, -1)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if scale_back:
        pixels = (pixels.astype(np.float64) * 255).astype(np.float32)
    resized = np.array(Image.fromarray(pixels.astype(np.uint8)).resize((size[1], size[0]), resample=resample))
    if resized.ndim == 2:
        resized = resized[..., None]
    resized = np.moveaxis(resized, -1, 0)
    return rescale(resized, 1 / 255) if scale_back else resized


def rescale(image: np.ndarray, scale: float) -> np.ndarray:
    """``image * scale`` computed in float64, returned as float32 (transformers' rescale).

    Example:
        >>> rescale(np.array([255], np.uint8), 1 / 255)
        array([1.], dtype=float32)
    """
    return (image.astype(np.float64) * scale).astype(np.float32)


def normalize(image: np.ndarray, mean, std) -> np.ndarray:
    """``(image - mean) / std`` per channel of a channels-first image (transformers' normalize).

    Example:
        >>> normalize(np.ones((3, 2, 2), np.float32), [0.5] * 3, [0.5] * 3)[0, 0, 0]
        1.0
    """
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    channels = image.shape[0]
    values = {}
    for name, given in (("image_mean", mean), ("image_std", std)):
        if isinstance(given, Iterable):
            given = list(given)
            if len(given) != channels:
                raise InvalidInputError(
                    f"The image has {channels} channel(s) but {name} has {len(given)} values. Convert the image "
                    f"to RGB (do_convert_rgb=True, or image.convert('RGB')) or give {channels} values."
                )
        else:
            given = [given] * channels
        values[name] = np.array(given, dtype=image.dtype)
    return ((image.T - values["image_mean"]) / values["image_std"]).T


def center_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The central (height, width) window of a channels-first image, zero-padded when the image is smaller.

    Example:
        >>> center_crop(np.zeros((3, 256, 256)), (224, 224)).shape
        (3, 224, 224)
    """
    height, width = image.shape[-2:]
    crop_height, crop_width = int(size[0]), int(size[1])
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    if top >= 0 and left >= 0:
        return image[..., top : top + crop_height, left : left + crop_width]
    new_height, new_width = max(crop_height, height), max(crop_width, width)
    padded = np.zeros_like(image, shape=image.shape[:-2] + (new_height, new_width))
    top_pad, left_pad = ceil((new_height - height) / 2), ceil((new_width - width) / 2)
    padded[..., top_pad : top_pad + height, left_pad : left_pad + width] = image
    top += top_pad
    left += left_pad
    return padded[
        ..., max(0, top) : min(new_height, top + crop_height), max(0, left) : min(new_width, left + crop_width)
    ]


def resize_output_size(height: int, width: int, size: dict[str, int]) -> tuple[int, int]:
    """The (height, width) a resize to ``size`` gives: fixed, or the shortest edge scaled (aspect kept).

    Example:
        >>> resize_output_size(427, 640, {"shortest_edge": 224})
        (224, 335)
    """
    if "height" in size:
        return size["height"], size["width"]
    short, long = (width, height) if width <= height else (height, width)
    new_short = size["shortest_edge"]
    new_long = int(new_short * long / short)
    if "longest_edge" in size and new_long > size["longest_edge"]:
        new_short, new_long = int(size["longest_edge"] * new_short / new_long), size["longest_edge"]
    return (new_long, new_short) if width <= height else (new_short, new_long)


class BaseImageProcessor:
    """Resize, center crop, rescale and normalize images into ``pixel_values`` (transformers' PIL processor).

    Every step's setting is an attribute with transformers' name (``do_resize``, ``size``,
    ``resample``, ``do_center_crop``, ``crop_size``, ``do_rescale``, ``rescale_factor``,
    ``do_normalize``, ``image_mean``, ``image_std``, ``do_convert_rgb``) and can be overridden
    per call. Output: ``pixel_values`` channels-first ``(batch, 3, height, width)`` float32, or
    channels-last with ``data_format="channels_last"`` (Keras' layout).

    Example:
        >>> processor = ViTImageProcessor()
        >>> processor([Image.open("cat.jpg")], return_tensors="np")["pixel_values"].shape
        (1, 3, 224, 224)
    """

    model_input_names = ["pixel_values"]
    resample = PILImageResampling.BILINEAR
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    size = {"height": 224, "width": 224}
    default_to_square = True
    crop_size = None
    do_resize = True
    do_center_crop = False
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = None
    _SETTINGS = (
        "do_resize",
        "size",
        "resample",
        "do_center_crop",
        "crop_size",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
        "do_convert_rgb",
    )

    def __init__(self, **kwargs: Any):
        unknown = {}
        for key, value in kwargs.items():
            if key in self._SETTINGS:
                setattr(self, key, value)
            else:
                unknown[key] = value  # kept and written back, as transformers keeps unknown keys
        self.extra_settings = unknown
        self.size = get_size_dict(copy.deepcopy(self.size), default_to_square=self.default_to_square)
        if self.crop_size is not None:
            self.crop_size = get_size_dict(copy.deepcopy(self.crop_size), param_name="crop_size")
        self.image_mean = copy.deepcopy(self.image_mean)
        self.image_std = copy.deepcopy(self.image_std)

    def __repr__(self) -> str:
        return f"{type(self).__name__} {json.dumps(self.to_dict(), indent=2, default=str)}"

    # ---------------------------------------------------------------- processing
    def __call__(self, images=None, **kwargs: Any) -> BatchFeature:
        """Preprocess ``images``; see :meth:`preprocess`.

        Example:
            >>> processor(image, return_tensors="np").pixel_values.shape
            (1, 3, 224, 224)
        """
        return self.preprocess(images, **kwargs)

    def preprocess(
        self,
        images,
        do_resize: bool | None = None,
        size: dict | int | None = None,
        resample: int | None = None,
        do_center_crop: bool | None = None,
        crop_size: dict | int | None = None,
        do_rescale: bool | None = None,
        rescale_factor: float | None = None,
        do_normalize: bool | None = None,
        image_mean: float | list[float] | None = None,
        image_std: float | list[float] | None = None,
        do_convert_rgb: bool | None = None,
        return_tensors: str | None = None,
        data_format: str = "channels_first",
        input_data_format: str | None = None,
    ) -> BatchFeature:
        """``{"pixel_values": ...}`` for one image or a list (see the module docstring for the image types).

        ``return_tensors``: None (a list of arrays), ``"np"`` or ``"tf"``. ``data_format``:
        ``"channels_first"`` (transformers' layout, the default) or ``"channels_last"``.
        ``input_data_format`` names the layout of array inputs when it cannot be inferred.

        Example:
            >>> processor.preprocess([img1, img2], return_tensors="tf")["pixel_values"].shape
            TensorShape([2, 3, 224, 224])
        """
        if images is None:
            raise InvalidInputError("No images given: pass images=... (PIL images, numpy arrays or file paths).")
        if data_format not in ("channels_first", "channels_last"):
            raise InvalidInputError(f"data_format must be 'channels_first' or 'channels_last', got {data_format!r}.")
        if return_tensors == "pt":
            raise InvalidInputError("return_tensors='pt' (PyTorch) is not supported here: use 'np' or 'tf'.")
        pick = self._pick
        do_resize, do_center_crop = pick(do_resize, "do_resize"), pick(do_center_crop, "do_center_crop")
        do_rescale, do_normalize = pick(do_rescale, "do_rescale"), pick(do_normalize, "do_normalize")
        size = get_size_dict(pick(size, "size"), default_to_square=self.default_to_square)
        crop_size = pick(crop_size, "crop_size")
        if do_center_crop:
            if crop_size is None:
                raise ConfigError("do_center_crop=True needs crop_size (e.g. {'height': 224, 'width': 224}).")
            crop_size = get_size_dict(crop_size, param_name="crop_size")
        resample = pick(resample, "resample")
        resample = int(resample) if resample is not None else PILImageResampling.BILINEAR
        rescale_factor = pick(rescale_factor, "rescale_factor")
        image_mean, image_std = pick(image_mean, "image_mean"), pick(image_std, "image_std")
        do_convert_rgb = pick(do_convert_rgb, "do_convert_rgb")

        processed = []
        for image in _as_image_list(images):
            image = self.to_channels_first(load_image(image), do_convert_rgb, input_data_format)
            if do_resize:
                height, width = resize_output_size(image.shape[1], image.shape[2], size)
                image = resize(image, (height, width), resample)
            if do_center_crop:
                image = center_crop(image, (crop_size["height"], crop_size["width"]))
            if do_rescale:
                image = rescale(image, rescale_factor)
            if do_normalize:
                image = normalize(image, image_mean, image_std)
            if data_format == "channels_last":
                image = np.moveaxis(image, 0, -1)
            processed.append(image)
        return BatchFeature({"pixel_values": processed}).convert_to_tensors(return_tensors)

    def _pick(self, given, name):
        return getattr(self, name) if given is None else given

    @staticmethod
    def to_channels_first(image, do_convert_rgb: bool | None, input_data_format: str | None = None) -> np.ndarray:
        """One image as a channels-first numpy array (RGB when ``do_convert_rgb``), as transformers reads it.

        Example:
            >>> BaseImageProcessor.to_channels_first(Image.new("RGB", (4, 2)), None).shape
            (3, 2, 4)
        """
        from PIL import Image

        if hasattr(image, "numpy") and not isinstance(image, np.ndarray):  # tf.Tensor / torch.Tensor
            image = image.numpy()
        if do_convert_rgb:
            array = convert_to_rgb(
                image if isinstance(image, Image.Image) else _channels_last(image, input_data_format)
            )
            return np.moveaxis(array, -1, 0)
        array = np.array(image)
        if array.ndim == 2:
            return array[None]
        if isinstance(image, Image.Image) or _layout(array, input_data_format) == "channels_last":
            return np.moveaxis(array, -1, 0)
        return array

    # ---------------------------------------------------------------- saving and loading
    def to_dict(self) -> dict[str, Any]:
        """The settings as ``preprocessor_config.json`` holds them.

        Example:
            >>> ViTImageProcessor().to_dict()["image_processor_type"]
            'ViTImageProcessor'
        """
        values = {name: copy.deepcopy(getattr(self, name)) for name in self._SETTINGS}
        if values["crop_size"] is None:
            values.pop("crop_size")
        if values["do_convert_rgb"] is None:
            values.pop("do_convert_rgb")
        values.update(copy.deepcopy(self.extra_settings))
        values["image_processor_type"] = type(self).__name__
        return values

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> list[str]:
        """Write ``preprocessor_config.json`` into ``save_directory`` (other files there stay).

        Example:
            >>> processor.save_pretrained("out")
            ['out/preprocessor_config.json']
        """
        if kwargs.get("push_to_hub"):
            raise InvalidInputError("push_to_hub=True is not supported for image processors yet: save, then upload.")
        with atomic_folder_write(save_directory, replaces=lambda name: name == IMAGE_PROCESSOR_NAME) as tmp:
            (Path(tmp) / IMAGE_PROCESSOR_NAME).write_text(self.to_json_string(), encoding="utf-8")
        return [os.path.join(os.fspath(save_directory), IMAGE_PROCESSOR_NAME)]

    @classmethod
    def from_dict(cls, values: dict[str, Any], **kwargs: Any) -> "BaseImageProcessor":
        """A processor from a ``preprocessor_config.json`` dict; ``kwargs`` override its values.

        Example:
            >>> ViTImageProcessor.from_dict({"size": {"height": 32, "width": 32}}).size
            {'height': 32, 'width': 32}
        """
        values = {k: v for k, v in {**values, **kwargs}.items() if k not in ("image_processor_type", "processor_class")}
        return cls(**values)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> "BaseImageProcessor":
        """Read ``preprocessor_config.json`` from a checkpoint folder or Hub name; ``kwargs`` override settings.

        Example:
            >>> processor = ViTImageProcessor.from_pretrained("google/vit-base-patch16-224", size=384)
        """
        values = read_processor_config(pretrained_model_name_or_path, kwargs)
        return cls.from_dict(values, **kwargs)


_LOADING_KEYS = ("revision", "cache_dir", "token", "local_files_only", "force_download")
_IGNORED_KEYS = ("use_fast", "trust_remote_code", "subfolder", "proxies", "resume_download", "use_auth_token")


def read_processor_config(name_or_path, kwargs: dict) -> dict[str, Any]:
    """The ``preprocessor_config.json`` of a checkpoint (loading options are taken out of ``kwargs``)."""
    loading = {k: kwargs.pop(k) for k in _LOADING_KEYS if k in kwargs}
    subfolder = kwargs.pop("subfolder", "") or ""
    for key in _IGNORED_KEYS:
        kwargs.pop(key, None)
    folder = resolve_checkpoint(name_or_path, **loading) / subfolder
    path = folder / IMAGE_PROCESSOR_NAME
    nested = _nested_processor_settings(folder / "processor_config.json")
    if not path.is_file() and nested is not None:  # transformers 5 saves a processor's settings there
        return nested
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"{name_or_path} has no {IMAGE_PROCESSOR_NAME}: it is not an image checkpoint, or its processor "
            "was not saved. Build one (e.g. ViTImageProcessor()) and save_pretrained() it there."
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}).") from None


def _nested_processor_settings(path: Path) -> dict[str, Any] | None:
    """The image processor's settings inside transformers 5's ``processor_config.json``, or None."""
    if not path.is_file():
        return None
    try:
        settings = json.loads(path.read_text(encoding="utf-8")).get("image_processor")
    except (ValueError, AttributeError):
        return None
    return settings if isinstance(settings, dict) else None


def _channels_last(image, input_data_format):
    array = np.asarray(image)
    if array.ndim == 3 and _layout(array, input_data_format) == "channels_first":
        return np.moveaxis(array, 0, -1)
    return array


def _layout(array: np.ndarray, input_data_format: str | None) -> str:
    if input_data_format is not None:
        if input_data_format not in ("channels_first", "channels_last"):
            raise InvalidInputError(
                f"input_data_format must be 'channels_first' or 'channels_last', got {input_data_format!r}."
            )
        return input_data_format
    return infer_channel_dimension(array)


_IMAGE_PROCESSOR_CLASSES: dict[str, type[BaseImageProcessor]] = {}
_MODEL_TYPE_PROCESSORS: dict[str, type[BaseImageProcessor]] = {}


def register_image_processor_class(
    cls: type[BaseImageProcessor], names: Iterable[str] = (), model_types: Iterable[str] = ()
) -> type[BaseImageProcessor]:
    """Make ``AutoImageProcessor`` build ``cls`` for its class name, ``names`` (``"ViTImageProcessorFast"``)
    and checkpoints of ``model_types`` without an ``image_processor_type``.

    Example:
        >>> register_image_processor_class(ViTImageProcessor, names=("ViTFeatureExtractor",), model_types=("vit",))
    """
    for name in (cls.__name__, *names):
        _IMAGE_PROCESSOR_CLASSES[name] = cls
    for model_type in model_types:
        _MODEL_TYPE_PROCESSORS[model_type] = cls
    return cls


class AutoImageProcessor:
    """Builds the image processor a checkpoint's ``preprocessor_config.json`` names.

    The class comes from ``image_processor_type`` (or the older ``feature_extractor_type``;
    a ``...Fast`` name gives the same class: processing is PIL's here), else from
    ``config.json``'s ``model_type``.

    Example:
        >>> processor = AutoImageProcessor.from_pretrained("google/vit-base-patch16-224")
        >>> type(processor).__name__
        'ViTImageProcessor'
    """

    def __init__(self):
        raise OSError("Use AutoImageProcessor.from_pretrained(checkpoint).")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> BaseImageProcessor:
        """The processor for a checkpoint folder or Hub name; ``kwargs`` override its settings.

        Example:
            >>> AutoImageProcessor.from_pretrained("path/to/vit", size={"height": 384, "width": 384})
        """
        from kerasformers.configuration import fill_registries

        fill_registries()
        lookup = {k: kwargs[k] for k in (*_LOADING_KEYS, "subfolder") if k in kwargs}
        values = read_processor_config(pretrained_model_name_or_path, kwargs)
        name = values.get("image_processor_type") or values.get("feature_extractor_type") or ""
        name = name.removesuffix("Fast").removesuffix("Pil").replace("FeatureExtractor", "ImageProcessor")
        processor_class = _IMAGE_PROCESSOR_CLASSES.get(name)
        if processor_class is None:
            processor_class = _MODEL_TYPE_PROCESSORS.get(_model_type(pretrained_model_name_or_path, lookup))
        if processor_class is None:
            known = ", ".join(sorted(_IMAGE_PROCESSOR_CLASSES)) or "none"
            raise ConfigError(
                f"{pretrained_model_name_or_path}: no image processor class for {name or 'this checkpoint'!r}. "
                f"Known: {known}."
            )
        return processor_class.from_dict(values, **kwargs)

    @staticmethod
    def register(config_class, image_processor_class=None, exist_ok: bool = False, **kwargs) -> None:
        """Use ``image_processor_class`` for checkpoints of ``config_class``'s model_type.

        Example:
            >>> AutoImageProcessor.register(MyConfig, image_processor_class=MyImageProcessor)
        """
        model_type = getattr(config_class, "model_type", None)
        if not exist_ok and model_type in _MODEL_TYPE_PROCESSORS:
            raise ConfigError(f"model_type {model_type!r} already has an image processor; pass exist_ok=True.")
        register_image_processor_class(image_processor_class, model_types=(model_type,))


def _model_type(name_or_path, lookup: dict) -> str | None:
    loading = {k: v for k, v in lookup.items() if k in _LOADING_KEYS}
    folder = resolve_checkpoint(name_or_path, **loading) / (lookup.get("subfolder") or "")
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return None
