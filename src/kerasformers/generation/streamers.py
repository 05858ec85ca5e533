"""Streamers: receive tokens while generate() produces them.

Streaming runs the decoding loop in Python, one XLA-compiled step per token (the step is
compiled once per batch size and prompt bucket), so the host sees each token as soon as it
exists. The trade-off: a host round trip per token, so it is somewhat slower than the
default path that runs the whole loop inside one compiled program. Beam search does not
stream (its best sequence is only known at the end).
"""

from __future__ import annotations

from queue import Queue

import numpy as np

from kerasformers.errors import InvalidInputError

__all__ = ["BaseStreamer", "TextStreamer", "TextIteratorStreamer"]


class BaseStreamer:
    """Interface: ``put(token_ids)`` for the prompt, then once per new token; ``end()`` at the end."""

    def put(self, value) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


class TokenCollector(BaseStreamer):
    """Keeps every array ``put`` receives; handy for tests and custom callbacks.

    Example:
        >>> collector = TokenCollector()
        >>> model.generate(ids, max_new_tokens=4, streamer=collector)
        >>> len(collector.chunks)  # the prompt, then one chunk per token
        5
    """

    def __init__(self):
        self.chunks: list[np.ndarray] = []
        self.ended = False

    def put(self, value) -> None:
        self.chunks.append(np.asarray(value))

    def end(self) -> None:
        self.ended = True


class TextStreamer(BaseStreamer):
    """Print text as it is generated, a word at a time (batch size 1), like transformers' TextStreamer.

    Example:
        >>> streamer = TextStreamer(tokenizer, skip_prompt=True)
        >>> model.generate(**tokenizer(["Once upon"], return_tensors="np"), max_new_tokens=20, streamer=streamer)
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, **decode_kwargs):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.token_cache: list[int] = []
        self.print_len = 0
        self.next_tokens_are_prompt = True

    def put(self, value) -> None:
        value = np.asarray(value)
        if value.ndim > 1 and value.shape[0] > 1:
            raise InvalidInputError("TextStreamer only supports batch size 1.")
        value = value.reshape(-1)
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        self.next_tokens_are_prompt = False
        self.token_cache.extend(int(v) for v in value)
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\n"):  # a finished line: print it and start afresh
            printable = text[self.print_len :]
            self.token_cache, self.print_len = [], 0
        else:  # print up to the last space: the last word may still change with the next token
            printable = text[self.print_len : text.rfind(" ") + 1]
            self.print_len += len(printable)
        self.on_finalized_text(printable)

    def end(self) -> None:
        text = (
            self.tokenizer.decode(self.token_cache, **self.decode_kwargs)[self.print_len :] if self.token_cache else ""
        )
        self.token_cache, self.print_len = [], 0
        self.next_tokens_are_prompt = True
        self.on_finalized_text(text, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Print ``text``; override to send it elsewhere."""
        print(text, flush=True, end="" if not stream_end else None)


class TextIteratorStreamer(TextStreamer):
    """Hand the text to another thread: iterate over it while ``generate()`` runs in a ``Thread``.

    ``timeout`` (seconds) bounds each wait for the next piece (``queue.Empty`` when it passes);
    ``decode_kwargs`` go to ``tokenizer.decode`` (e.g. ``skip_special_tokens=True``).

    Example:
        >>> from threading import Thread
        >>> streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
        >>> Thread(target=model.generate, kwargs=dict(**inputs, max_new_tokens=20, streamer=streamer)).start()
        >>> text = "".join(piece for piece in streamer)
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs):
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue: Queue = Queue()
        self.stop_signal = None
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self.stop_signal, timeout=self.timeout)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        value = self.text_queue.get(timeout=self.timeout)
        if value == self.stop_signal:
            raise StopIteration()
        return value
