"""Worker of tests/test_resume.py: the tiny ``pretrain`` run of the test, in its own process.

``python resume_worker.py CORPUS OUT``; with ``KF_KILL_AFTER_STEP=N`` in the environment the
process SIGKILLs itself after N train steps (no cleanup, no exception: as a preempted worker).
"""

from __future__ import annotations

import os
import signal
import sys

import keras
from test_resume import RUN

from kerasformers.pretraining import pretrain


class SigkillAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.left = step

    def on_train_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    corpus, out = sys.argv[1:3]
    kill_after = os.environ.get("KF_KILL_AFTER_STEP")
    callbacks = [SigkillAtStep(int(kill_after))] if kill_after else []
    pretrain(corpus, out, callbacks=callbacks, **RUN)
