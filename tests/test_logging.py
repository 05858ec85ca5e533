"""kerasformers.logging: transformers' logging controls over the "kerasformers" logger (checked by property)."""

import inspect
import logging as std_logging
import os
import subprocess
import sys
import textwrap

import pytest
import transformers.utils.logging as hf_logging

from kerasformers import logging

# Logger methods transformers patches onto logging.Logger, and a 5.x hook for its own tqdm: not ours.
NOT_PROVIDED = {"warning_advice", "warning_once", "info_once", "set_tqdm_hook"}


@pytest.fixture
def library_logger():
    """The "kerasformers" logger, restored after the test (other tests read its records)."""
    logger = std_logging.getLogger("kerasformers")
    saved = logger.level, list(logger.handlers), logger.propagate, [h.formatter for h in logger.handlers]
    yield logger
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]
    for handler, formatter in zip(saved[1], saved[3]):
        handler.setFormatter(formatter)


class Collect(std_logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_names_match_transformers():
    theirs = {
        name
        for name, value in vars(hf_logging).items()
        if inspect.isfunction(value) and value.__module__ == hf_logging.__name__ and not name.startswith("_")
    }
    theirs |= {"CRITICAL", "DEBUG", "ERROR", "FATAL", "INFO", "NOTSET", "WARN", "WARNING"}
    missing = sorted(theirs - set(logging.__all__) - NOT_PROVIDED)
    assert not missing
    assert logging.get_log_levels_dict() == hf_logging.get_log_levels_dict()
    for name in ("CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING"):
        assert getattr(logging, name) == getattr(hf_logging, name)


def test_verbosity_decides_what_is_emitted(library_logger):
    collect = Collect()
    logging.add_handler(collect)
    module_logger = logging.get_logger("kerasformers.some_module")  # children follow the library logger
    logging.set_verbosity_error()
    assert logging.get_verbosity() == logging.ERROR
    module_logger.warning("hidden")
    logging.set_verbosity_warning()
    module_logger.warning("shown")
    module_logger.info("hidden info")
    logging.set_verbosity_info()
    module_logger.info("shown info")
    logging.set_verbosity_debug()
    module_logger.debug("shown debug")
    logging.set_verbosity(logging.CRITICAL)
    module_logger.error("hidden error")
    logging.remove_handler(collect)
    module_logger.critical("after removal")
    assert collect.messages == ["shown", "shown info", "shown debug"]


def test_propagation_switch(library_logger, caplog):
    logging.set_verbosity_warning()
    logging.disable_propagation()
    logging.get_logger().warning("not propagated")
    logging.enable_propagation()
    logging.get_logger().warning("propagated")
    assert [r.getMessage() for r in caplog.records] == ["propagated"]


def test_fresh_process_default_handler_env_and_format(tmp_path):
    script = textwrap.dedent(
        """
        import logging as std, sys
        from kerasformers import logging
        log = logging.get_logger("kerasformers.probe")
        print(logging.get_verbosity(), flush=True)
        log.warning("first")
        log.info("info line")
        logging.enable_explicit_format()
        log.error("explicit")
        logging.reset_format()
        logging.disable_default_handler()
        log.error("no handler")
        logging.enable_default_handler()
        std.basicConfig(stream=sys.stdout, format="root: %(message)s")
        log.error("once")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "KERASFORMERS_VERBOSITY"}
    runs = {}
    for verbosity in (None, "info", "error"):
        if verbosity:
            env["KERASFORMERS_VERBOSITY"] = verbosity
        runs[verbosity] = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
        )
    default, info, error = runs[None], runs["info"], runs["error"]
    assert default.stdout.splitlines() == [str(std_logging.WARNING), "root: once"]
    lines = default.stderr.splitlines()
    assert lines[0] == "first" and lines[1].startswith("[ERROR|<string>:") and lines[1].endswith(">> explicit")
    # with no handler at all Python's last-resort handler prints, as with transformers;
    # "once" went to the root handler only (nothing printed twice)
    assert lines[2:] == ["no handler"]
    assert info.stdout.splitlines()[0] == str(std_logging.INFO) and "info line" in info.stderr
    assert error.stdout.splitlines()[0] == str(std_logging.ERROR) and "first" not in error.stderr
