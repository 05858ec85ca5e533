"""GenerationConfig: the settings of ``generate()``, read from generation_config.json."""

from __future__ import annotations

import copy
import difflib
import json
import os
from pathlib import Path
from typing import Any

from kerasformers.errors import InvalidInputError, NotSupportedError

GENERATION_CONFIG_NAME = "generation_config.json"

# transformers' defaults for the settings kerasformers implements.
_DEFAULTS: dict[str, Any] = {
    "max_length": 20,
    "max_new_tokens": None,
    "min_length": 0,
    "min_new_tokens": None,
    "early_stopping": False,
    "do_sample": False,
    "num_beams": 1,
    "num_return_sequences": 1,
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
    "min_p": None,
    "repetition_penalty": 1.0,
    "length_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "use_cache": True,
}

# What generate() returns and when it stops besides length and eos: GenerationConfig fields with
# transformers' defaults, kept apart from _DEFAULTS because they do not change the compiled loop's
# tokens (generation_settings(), which the text-generation export accepts, lists _DEFAULTS only).
_OUTPUT_DEFAULTS: dict[str, Any] = {
    "return_dict_in_generate": False,
    "output_scores": False,
    "output_logits": False,
    "output_attentions": False,
    "output_hidden_states": False,
    "stop_strings": None,
    "max_time": None,
}

# Settings transformers has that we do not implement: asking for them is an error, not a no-op.
_UNSUPPORTED = (
    "penalty_alpha",
    "typical_p",
    "epsilon_cutoff",
    "eta_cutoff",
    "diversity_penalty",
    "num_beam_groups",
    "constraints",
    "force_words_ids",
    "guidance_scale",
    "sequence_bias",
    "exponential_decay_length_penalty",
    "suppress_tokens",
    "begin_suppress_tokens",
    "top_h",
    "assistant_model",
    "prompt_lookup_num_tokens",
    "encoder_repetition_penalty",
)


# transformers' generate() keywords that kerasformers accepts and that change nothing here.
_ACCEPTED_NO_OPS = (
    "use_cache",
    "renormalize_logits",
    "remove_invalid_values",
    "synced_gpus",
    "decoder_start_token_id",
    "_from_model_config",
    "transformers_version",
)


def check_generate_kwargs(kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments ``generate()`` does not know, as transformers refuses unused ones.

    Example:
        >>> check_generate_kwargs({"max_new_token": 3})
        Traceback (most recent call last):
        kerasformers.errors.InvalidInputError: generate() got unknown keyword argument(s) ['max_new_token'] ...
    """
    known = set(_DEFAULTS) | set(_OUTPUT_DEFAULTS) | set(_UNSUPPORTED) | set(_ACCEPTED_NO_OPS)
    unknown = [k for k in kwargs if k not in known]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        if close:
            hints.append(f"{key!r}: did you mean {close[0]!r}?")
    raise InvalidInputError(
        f"generate() got unknown keyword argument(s) {unknown}"
        + (f" ({'; '.join(hints)})" if hints else "")
        + ". They are neither generation settings nor model inputs (input_ids, attention_mask); "
        "fix the spelling or drop them."
    )


def generation_settings() -> tuple[str, ...]:
    """The names of the generation settings kerasformers implements (transformers' names).

    Example:
        >>> "max_new_tokens" in generation_settings()
        True
    """
    return tuple(sorted(_DEFAULTS))


class GenerationConfig:
    """Decoding settings with transformers' names and defaults; unknown keys are kept as is.

    Example:
        >>> config = GenerationConfig(max_new_tokens=32, do_sample=True, top_p=0.9)
        >>> config.update(temperature=0.7).temperature
        0.7
    """

    def __init__(self, **kwargs: Any):
        for key, value in {**copy.deepcopy(_DEFAULTS), **copy.deepcopy(_OUTPUT_DEFAULTS), **kwargs}.items():
            setattr(self, key, value)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, **overrides: Any) -> "GenerationConfig":
        """Read ``folder/generation_config.json``.

        Example:
            >>> GenerationConfig.from_pretrained("path/to/smollm2").eos_token_id
            2
        """
        path = Path(folder) / GENERATION_CONFIG_NAME
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"{path} is not valid JSON ({error}).") from None
        return cls(**{**values, **overrides})

    @classmethod
    def from_model_config(cls, config) -> "GenerationConfig":
        """The token ids (bos/eos/pad) and any generation keys a model config.json carries."""
        values = {
            key: getattr(config, key)
            for key in _DEFAULTS
            if hasattr(config, key) and key not in ("output_hidden_states", "output_attentions")
        }
        values = {k: v for k, v in values.items() if v is not None}
        values["_from_model_config"] = True
        return cls(**values)

    def push_to_hub(self, repo_id: str, commit_message: str | None = None, **kwargs: Any):
        """Upload generation_config.json to the Hub as one commit ("Upload config"); returns the ``CommitInfo``.

        Takes the keywords of the models' ``push_to_hub`` (``private``, ``token``, ``revision``, ``create_pr``...).

        Example:
            >>> GenerationConfig(eos_token_id=2).push_to_hub("me/tiny-llama")
        """
        from kerasformers.hub_push import push_to_hub

        return push_to_hub(self, repo_id, commit_message=commit_message, **kwargs)

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        """Write ``generation_config.json`` into ``folder``.

        Example:
            >>> GenerationConfig(eos_token_id=2).save_pretrained("out")
        """
        path = Path(folder) / GENERATION_CONFIG_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_diff_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(vars(self)))

    def to_diff_dict(self) -> dict[str, Any]:
        """Only the values that differ from the defaults (what transformers writes)."""
        defaults = {**_DEFAULTS, **_OUTPUT_DEFAULTS}
        return {k: v for k, v in self.to_dict().items() if k not in defaults or defaults[k] != v}

    def update(self, **kwargs: Any) -> "GenerationConfig":
        """A copy with ``kwargs`` applied (this object is left as it is)."""
        new = copy.deepcopy(self)
        for key, value in kwargs.items():
            setattr(new, key, value)
        return new

    @property
    def eos_token_ids(self) -> list[int]:
        """eos_token_id as a list (it may be an int, a list or None)."""
        eos = self.eos_token_id
        if eos is None:
            return []
        return [int(e) for e in eos] if isinstance(eos, (list, tuple)) else [int(eos)]

    def validate(self) -> None:
        """Raise one clear error for settings that cannot work together or are not implemented."""
        used = [k for k in _UNSUPPORTED if getattr(self, k, None) not in (None, False, 1, 1.0, 0)]
        if used:
            raise NotSupportedError(f"kerasformers' generate() does not implement {used} yet.")
        if self.num_beams < 1 or int(self.num_beams) != self.num_beams:
            raise InvalidInputError(f"num_beams must be a positive integer, got {self.num_beams!r}.")
        if self.num_return_sequences > self.num_beams and not self.do_sample:
            raise InvalidInputError(
                f"num_return_sequences ({self.num_return_sequences}) must be at most num_beams "
                f"({self.num_beams}) for beam search and greedy decoding."
            )
        if self.do_sample and self.temperature is not None and self.temperature <= 0:
            raise InvalidInputError(
                f"temperature must be > 0 when sampling, got {self.temperature}. "
                "For greedy decoding pass do_sample=False."
            )
        if self.top_p is not None and not 0.0 <= self.top_p <= 1.0:
            raise InvalidInputError(f"top_p must be in [0, 1], got {self.top_p}.")
        if self.min_p is not None and not 0.0 <= self.min_p <= 1.0:
            raise InvalidInputError(f"min_p must be in [0, 1], got {self.min_p}.")
        if self.repetition_penalty is not None and self.repetition_penalty <= 0:
            raise InvalidInputError(f"repetition_penalty must be > 0, got {self.repetition_penalty}.")

    def __repr__(self) -> str:
        return f"GenerationConfig {json.dumps(self.to_diff_dict(), indent=2, sort_keys=True)}"
