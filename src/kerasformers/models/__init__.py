"""Every architecture; importing this package registers their configs and auto classes."""

from kerasformers.models import (
    bart,  # noqa: F401
    bert,  # noqa: F401
    clip,  # noqa: F401
    deit,  # noqa: F401
    distilbert,  # noqa: F401
    gpt2,  # noqa: F401
    llama,  # noqa: F401
    marian,  # noqa: F401
    roberta,  # noqa: F401
    t5,  # noqa: F401
    vision_encoder_decoder,  # noqa: F401
    vit,  # noqa: F401
    whisper,  # noqa: F401
)
