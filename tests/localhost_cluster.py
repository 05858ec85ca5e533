"""TF_CONFIG for a tf.distribute cluster of worker processes on 127.0.0.1 (tests and benchmarks)."""

import json
import socket


def localhost_tf_configs(count: int) -> list[str]:
    """One TF_CONFIG JSON per worker of a ``count``-worker cluster on free 127.0.0.1 ports; worker 0 is the chief.

    Example:
        >>> env = {**os.environ, "TF_CONFIG": localhost_tf_configs(2)[index]}
    """
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:  # all bound at once, so the ports differ
        sock.bind(("127.0.0.1", 0))
    workers = [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    for sock in sockets:
        sock.close()
    return [json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}) for i in range(count)]
