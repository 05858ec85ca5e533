"""Worker of tests/test_resume.py: ``kerasformers pretrain`` with the test's tiny flags, in its own process.

``python resume_worker.py CORPUS OUT [--strategy mirrored]`` runs the command (``cli.main``) with
``--save-steps`` (mirrored: on two logical CPU devices, set up before TensorFlow starts);
with ``KF_KILL_AFTER_STEP=N`` in the environment the process SIGKILLs itself after N train steps
(no cleanup, no exception: as a preempted worker). Rerunning it without the variable is the
same command again.
"""

from __future__ import annotations

import functools
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "mirrored" in sys.argv:  # before TensorFlow initialises its devices
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
from test_resume import RUN  # noqa: E402

import kerasformers.pretraining  # noqa: E402
from kerasformers.cli import main  # noqa: E402


class SigkillAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.left = step

    def on_train_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)


def command_flags(corpus, out) -> list[str]:
    flags = ["pretrain", "--corpus", corpus, "--out", out]
    for name, value in RUN.items():
        flag = "--" + name.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    return flags


if __name__ == "__main__":
    corpus, out, *extra = sys.argv[1:]
    kill_after = os.environ.get("KF_KILL_AFTER_STEP")
    if kill_after:  # the command's own code path, plus the kill
        pretrain = kerasformers.pretraining.pretrain
        kerasformers.pretraining.pretrain = functools.partial(pretrain, callbacks=[SigkillAtStep(int(kill_after))])
    sys.exit(main(command_flags(corpus, out) + extra))
