"""Every architecture; importing this package registers their configs and auto classes."""

from kerasformers.models import bert  # noqa: F401
from kerasformers.models import llama  # noqa: F401
from kerasformers.models import roberta  # noqa: F401
from kerasformers.models import distilbert  # noqa: F401
from kerasformers.models import gpt2  # noqa: F401
