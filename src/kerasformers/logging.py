"""transformers' logging controls (``transformers.logging``) over the "kerasformers" logger.

kerasformers logs to Python's ``logging.getLogger("kerasformers")`` (and its children). These
functions set its level, handler and format as ``transformers.utils.logging`` does for the
"transformers" logger; ``KERASFORMERS_VERBOSITY`` (debug, info, warning, error, critical, or
detail: debug with file and line) sets the starting level as ``TRANSFORMERS_VERBOSITY`` does.

One difference: records still propagate to the root logger (so an application's own logging
setup and pytest's ``caplog`` see them), and the default stderr handler stays quiet while the
root logger has handlers of its own, so nothing is printed twice.

Example:
    >>> from kerasformers import logging
    >>> logging.set_verbosity_error()
    >>> logging.get_verbosity() == logging.ERROR
    True
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from logging import CRITICAL, DEBUG, ERROR, FATAL, INFO, NOTSET, WARN, WARNING  # noqa: F401  (the level constants, as transformers.logging has them)
from logging import captureWarnings as _capture_warnings

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "FATAL",
    "INFO",
    "NOTSET",
    "WARN",
    "WARNING",
    "add_handler",
    "captureWarnings",
    "disable_default_handler",
    "disable_progress_bar",
    "disable_propagation",
    "enable_default_handler",
    "enable_explicit_format",
    "enable_progress_bar",
    "enable_propagation",
    "get_log_levels_dict",
    "get_logger",
    "get_verbosity",
    "is_progress_bar_enabled",
    "remove_handler",
    "reset_format",
    "set_verbosity",
    "set_verbosity_debug",
    "set_verbosity_error",
    "set_verbosity_info",
    "set_verbosity_warning",
]

LIBRARY_LOGGER_NAME = "kerasformers"
VERBOSITY_ENV = "KERASFORMERS_VERBOSITY"
EXPLICIT_FORMAT = "[%(levelname)s|%(filename)s:%(lineno)s] %(asctime)s >> %(message)s"

log_levels = {
    "detail": DEBUG,  # debug, with file name and line number
    "debug": DEBUG,
    "info": INFO,
    "warning": WARNING,
    "error": ERROR,
    "critical": CRITICAL,
}

_lock = threading.Lock()
_default_handler: logging.Handler | None = None


def _library_logger() -> logging.Logger:
    return logging.getLogger(LIBRARY_LOGGER_NAME)


def _root_will_print(record: logging.LogRecord) -> bool:
    """Whether the root logger's own handlers will get this record (then ours stays quiet)."""
    return _library_logger().propagate and bool(logging.getLogger().handlers)


def _default_level() -> int:
    name = os.environ.get(VERBOSITY_ENV)
    if not name:
        return WARNING
    if name not in log_levels:
        logging.getLogger().warning(
            f"Unknown option {VERBOSITY_ENV}={name}; it has to be one of: {', '.join(log_levels)}. Using warning."
        )
        return WARNING
    return log_levels[name]


def _configure_library_logger() -> None:
    """Give the library logger its level and stderr handler, once (as transformers does on first use)."""
    global _default_handler
    with _lock:
        if _default_handler is not None:
            return
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(lambda record: not _root_will_print(record))
        if os.environ.get(VERBOSITY_ENV) == "detail":
            handler.setFormatter(logging.Formatter(EXPLICIT_FORMAT))
        logger = _library_logger()
        logger.addHandler(handler)
        logger.setLevel(_default_level())
        _default_handler = handler


def reset_library_logger() -> None:
    """Undo the configuration: no default handler, level NOTSET, propagation on.

    Example:
        >>> reset_library_logger()
        >>> logging.getLogger("kerasformers").level == NOTSET
        True
    """
    global _default_handler
    with _lock:
        logger = _library_logger()
        if _default_handler is not None:
            logger.removeHandler(_default_handler)
        _default_handler = None
        logger.setLevel(NOTSET)
        logger.propagate = True


def get_log_levels_dict() -> dict[str, int]:
    """The names ``KERASFORMERS_VERBOSITY`` accepts and their levels.

    Example:
        >>> get_log_levels_dict()["info"] == INFO
        True
    """
    return dict(log_levels)


def get_logger(name: str | None = None) -> logging.Logger:
    """The logger called ``name`` (default: the library's "kerasformers" logger), configured.

    Example:
        >>> logger = get_logger("kerasformers.my_module")
        >>> logger.warning("shown once verbosity is warning or lower")
    """
    _configure_library_logger()
    return logging.getLogger(name or LIBRARY_LOGGER_NAME)


def captureWarnings(capture: bool) -> None:  # noqa: N802  (transformers' name)
    """Route Python ``warnings`` to the "py.warnings" logger at the library's level (or stop).

    Example:
        >>> captureWarnings(True)
    """
    _configure_library_logger()
    logger = logging.getLogger("py.warnings")
    if not logger.handlers:
        logger.addHandler(_default_handler)
    logger.setLevel(_library_logger().level)
    _capture_warnings(capture)


def get_verbosity() -> int:
    """The library logger's effective level (``logging.WARNING`` by default).

    Example:
        >>> get_verbosity() == WARNING
        True
    """
    _configure_library_logger()
    return _library_logger().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    """Set the library logger's level (``kerasformers.logging.INFO``, ``ERROR``, ...).

    Example:
        >>> set_verbosity(INFO)
    """
    _configure_library_logger()
    _library_logger().setLevel(verbosity)


def set_verbosity_info() -> None:
    """Set the verbosity to INFO.

    Example:
        >>> set_verbosity_info()
    """
    set_verbosity(INFO)


def set_verbosity_warning() -> None:
    """Set the verbosity to WARNING (the default).

    Example:
        >>> set_verbosity_warning()
    """
    set_verbosity(WARNING)


def set_verbosity_debug() -> None:
    """Set the verbosity to DEBUG.

    Example:
        >>> set_verbosity_debug()
    """
    set_verbosity(DEBUG)


def set_verbosity_error() -> None:
    """Set the verbosity to ERROR: warnings are no longer shown.

    Example:
        >>> set_verbosity_error()
    """
    set_verbosity(ERROR)


def disable_default_handler() -> None:
    """Stop the library's own stderr handler.

    Example:
        >>> disable_default_handler()
    """
    _configure_library_logger()
    _library_logger().removeHandler(_default_handler)


def enable_default_handler() -> None:
    """Restore the library's own stderr handler.

    Example:
        >>> enable_default_handler()
    """
    _configure_library_logger()
    _library_logger().addHandler(_default_handler)


def add_handler(handler: logging.Handler) -> None:
    """Add a handler to the library logger.

    Example:
        >>> add_handler(logging.FileHandler("kerasformers.log"))
    """
    _configure_library_logger()
    _library_logger().addHandler(handler)


def remove_handler(handler: logging.Handler) -> None:
    """Remove a handler from the library logger.

    Example:
        >>> remove_handler(handler)
    """
    _configure_library_logger()
    _library_logger().removeHandler(handler)


def disable_propagation() -> None:
    """Keep library records from the root logger (only the library's handlers see them).

    Example:
        >>> disable_propagation()
    """
    _configure_library_logger()
    _library_logger().propagate = False


def enable_propagation() -> None:
    """Pass library records on to the root logger (the default here).

    Example:
        >>> enable_propagation()
    """
    _configure_library_logger()
    _library_logger().propagate = True


def enable_explicit_format() -> None:
    """Format every library handler as ``[LEVEL|FILE:LINE] TIME >> MESSAGE``.

    Example:
        >>> enable_explicit_format()
    """
    _configure_library_logger()
    for handler in _library_logger().handlers:
        handler.setFormatter(logging.Formatter(EXPLICIT_FORMAT))


def reset_format() -> None:
    """Back to the plain message format on every library handler.

    Example:
        >>> reset_format()
    """
    for handler in _library_logger().handlers:
        handler.setFormatter(None)


def is_progress_bar_enabled() -> bool:
    """Whether progress bars (downloads from the Hub) are shown; the Hub's own setting, as in transformers.

    Example:
        >>> is_progress_bar_enabled()
        True
    """
    import huggingface_hub.utils

    return not huggingface_hub.utils.are_progress_bars_disabled()


def enable_progress_bar() -> None:
    """Show progress bars (huggingface_hub downloads).

    Example:
        >>> enable_progress_bar()
    """
    import huggingface_hub.utils

    huggingface_hub.utils.enable_progress_bars()


def disable_progress_bar() -> None:
    """Hide progress bars (huggingface_hub downloads).

    Example:
        >>> disable_progress_bar()
    """
    import huggingface_hub.utils

    huggingface_hub.utils.disable_progress_bars()
