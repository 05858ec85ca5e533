"""Every architecture; importing this package registers their configs and auto classes."""

from kerasformers.models import bert  # noqa: F401
from kerasformers.models import llama  # noqa: F401
