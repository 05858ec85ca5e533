"""``tf`` for the serving modules, imported on first use so ``kerasformers --help`` stays fast
(the CLI imports the export parser, which lives in this package)."""

from __future__ import annotations


class _LazyTensorFlow:
    """``tensorflow``, imported on first use, so ``kerasformers --help`` stays fast."""

    def __getattr__(self, name: str):
        import tensorflow

        return getattr(tensorflow, name)


tf = _LazyTensorFlow()
