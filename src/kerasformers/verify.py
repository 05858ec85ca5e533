"""``kerasformers verify``: check a checkpoint in kerasformers against PyTorch transformers.

The check transformers' ``pt-to-tf`` command made before a TensorFlow port was published, for
every head our registry has for the checkpoint's ``model_type``:

- outputs and every hidden state, per head, on real tokenizer output (:data:`VERIFY_TEXTS`, a
  dozen short texts in several scripts) and on random ids of several lengths: max abs error;
- weights: our ``save_pretrained`` reloaded in PyTorch, max abs difference per tensor;
- tokenizer: ids from ours and from transformers' ``AutoTokenizer`` on the same texts;
- causal LMs (decoder-only architectures): greedy ``generate()`` tokens on a few prompts.

Everything passes when each error is at most ``max_error`` (5e-5 by default, as pt-to-tf), for
outputs scaled by their magnitude when it exceeds 1 (``error <= max_error * max(1, largest
|value|)``): float32 cannot hold 5e-5 absolute at the |value| ~ 3e4 of a large LM's massive
activations (one ulp there is ~2e-3), so those are held to the same relative precision instead.
Weights, tokenizer ids and generated tokens are held absolutely.
Heads the checkpoint has no weights for are randomly initialised by us and given to PyTorch
with the same values. Padded positions are left out of the comparison: they feed no output,
and their float32 rounding differs between CPU kernels.

With ``reference`` PyTorch loads another checkpoint (the original a copy was made from), so a
converted, re-saved or re-sharded copy is checked against its source.

Example:
    >>> report = verify_checkpoint("path/to/checkpoint")
    >>> report.passed, report.failures
    (True, [])
    >>> print(report.to_markdown())
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kerasformers.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "VERIFY_TEXTS",
    "VerificationRow",
    "VerificationReport",
    "verify_checkpoint",
    "add_verify_parser",
    "run_verify",
]

DEFAULT_MAX_ERROR = 5e-5  # transformers' pt-to-tf default
RANDOM_LENGTHS = (5, 19, 64)  # random-id inputs: batch 2 at each length (capped by the positions)
GENERATION_NEW_TOKENS = 12
GENERATION_PROMPTS = 3  # the first texts of VERIFY_TEXTS

# A dozen short texts in several scripts: Latin with accents, Cyrillic, Greek, Arabic, Hebrew,
# Devanagari, CJK, Hangul, Thai, emoji, digits and code.
VERIFY_TEXTS: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "Keras models load Hugging Face checkpoints, number for number.",
    "Café, naïve façade: déjà vu in São Paulo and Zürich.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "مرحبا بالعالم، هذه جملة قصيرة.",
    "שלום עולם, זה משפט קצר.",
    "यह एक छोटा वाक्य है।",
    "我们在东京吃了寿司，然后去了京都。",
    "안녕하세요, 세계! 오늘 날씨가 좋네요.",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "Emoji 🚀🔥 and numbers 3.14159, 2026-11-30; code: x = f(y) + 1",
)


@dataclass(frozen=True)
class VerificationRow:
    """One checked quantity: ``section`` (outputs, weights, tokenizer, generation), the head it
    belongs to (or ""), ``name`` (an output, a hidden state, a tensor), the ``error`` (max abs
    difference, or the count of disagreeing texts/tokens), whether it ``passed``, and ``detail``.

    Example:
        >>> VerificationRow("outputs", "TFBertModel", "last_hidden_state", 3e-6, True, "texts")
    """

    section: str
    head: str
    name: str
    error: float
    passed: bool
    detail: str = ""
    scale: float = 0.0  # outputs: the largest |value| PyTorch gave there (massive activations in big LMs)


@dataclass
class VerificationReport:
    """What :func:`verify_checkpoint` found; ``passed`` when every row did.

    Example:
        >>> report = verify_checkpoint("path/to/checkpoint")
        >>> report.max_error("outputs"), [row.name for row in report.failures]
        (4.1e-06, [])
    """

    checkpoint: str
    reference: str
    limit: float
    rows: list[VerificationRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def failures(self) -> list[VerificationRow]:
        return [row for row in self.rows if not row.passed]

    def max_error(self, section: str | None = None) -> float:
        """The largest error of a section (outputs, weights, tokenizer, generation), or of all."""
        errors = [r.error for r in self.rows if section in (None, r.section)]
        return max(errors) if errors else 0.0

    def _summary_rows(self) -> list[tuple[str, str, str, str, str]]:
        """One line per (section, head): the worst row; each failing row on its own line."""
        lines, seen = [], {}
        for row in self.rows:
            key = (row.section, row.head)
            if key not in seen or row.error > seen[key].error:
                seen[key] = row
        for (section, head), worst in seen.items():
            count = sum(1 for r in self.rows if (r.section, r.head) == (section, head))
            status = "ok" if all(r.passed for r in self.rows if (r.section, r.head) == (section, head)) else "FAIL"
            lines.append((section, head, f"{count} checked, worst: {worst.name}", _format(worst), status))
        for row in self.failures:
            lines.append(
                (row.section, row.head, f"{row.name} ({row.detail})" if row.detail else row.name, _format(row), "FAIL")
            )
        return lines

    def to_table(self) -> str:
        """A short plain-text table: one line per section and head, then each failure."""
        header = ("section", "head", "checked", "max error", "status")
        lines = [header, *self._summary_rows()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures)} over the limit)"
        text.append(f"{verdict}: max error {self.max_error():.2e}, limit {self.limit:.0e}")
        return "\n".join(text + [f"note: {n}" for n in self.notes])

    def to_markdown(self) -> str:
        """The whole report as markdown: a summary, then every row (``--report file.md``)."""
        source = (
            self.checkpoint if self.reference == self.checkpoint else f"{self.checkpoint} (PyTorch: {self.reference})"
        )
        verdict = "passed" if self.passed else f"**failed** ({len(self.failures)} over the limit)"
        out = [
            "## Verification",
            "",
            f"`kerasformers verify` on `{source}` against PyTorch transformers: {verdict}; "
            f"max abs error {self.max_error():.2e} (limit {self.limit:.0e}).",
            "",
            "| section | head | checked | max error | status |",
            "|---|---|---|---|---|",
            *(f"| {' | '.join(line)} |" for line in self._summary_rows()),
            "",
            "<details><summary>Every check</summary>",
            "",
            "| section | head | name | error | status | detail |",
            "|---|---|---|---|---|---|",
            *(
                f"| {r.section} | {r.head} | {r.name} | {_format(r)} | {'ok' if r.passed else 'FAIL'} | {r.detail} |"
                for r in self.rows
            ),
            "",
            "</details>",
        ]
        out += [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"


def _format(row: VerificationRow) -> str:
    if row.section in ("tokenizer", "generation"):  # counts of disagreements
        return str(int(row.error))
    return f"{row.error:.2e}" if math.isfinite(row.error) else str(row.error)


# ------------------------------------------------------------------------------------ the check
def _require_torch():
    try:
        import torch
        import transformers
    except ImportError as error:
        raise MissingDependencyError(
            f"kerasformers verify compares against PyTorch transformers, which is not installed "
            f"({error.name or error}): pip install 'kerasformers[test]' (torch and transformers)."
        ) from None
    return torch, transformers


def _heads_for(model_type: str, only: list[str] | None, transformers) -> list[tuple[str, type, type]]:
    """(registry key, our class, transformers' class) per head registered for ``model_type``."""
    from kerasformers.configuration import fill_registries
    from kerasformers.models.auto import registered_class
    from kerasformers.tasks import TASKS

    fill_registries()
    heads, seen = [], set()
    for task in TASKS:
        ours = registered_class(task.registry_key, model_type)
        if ours is None or ours in seen:  # TFAutoModelWithLMHead repeats the masked/causal LM head
            continue
        theirs = getattr(transformers, ours.__name__.removeprefix("TF"), None)
        if theirs is None:
            continue
        names = {task.registry_key, task.name, task.auto_class, ours.__name__, *task.aliases}
        if only is not None and not names & set(only):
            continue
        seen.add(ours)
        heads.append((task.registry_key, ours, theirs))
    if only is not None:
        selected = {h[0] for h in heads}
        found = {ours.__name__ for _, ours, _ in heads} | {
            n for t in TASKS if t.registry_key in selected for n in (t.registry_key, t.name, t.auto_class, *t.aliases)
        }
        unknown = [h for h in only if h not in found]
        if unknown:
            available = ", ".join(h[0] for h in _heads_for(model_type, None, transformers))
            raise InvalidInputError(
                f"--heads {unknown}: not a head of model_type {model_type!r}. Give task names "
                f"(text-classification), registry keys or class names; its heads: {available}."
            )
    if not heads:
        raise InvalidInputError(f"kerasformers has no model class for model_type {model_type!r} to verify.")
    return heads


def _input_sets(config, tokenizer, texts, input_names: set[str]) -> list[tuple[str, dict[str, np.ndarray]]]:
    """[(description, inputs)]: the texts through our tokenizer (right-padded), then random ids."""
    limit = min(getattr(config, "max_position_embeddings", None) or 512, 512)
    sets = []
    if tokenizer is not None and texts:
        encoded = [tokenizer(t, truncation=True, max_length=min(limit, 128)) for t in texts]
        length = max(len(e["input_ids"]) for e in encoded)
        pad = getattr(tokenizer, "pad_token_id", None)
        pad = pad if pad is not None else 0
        batch = {
            "input_ids": np.full((len(texts), length), pad, np.int64),
            "attention_mask": np.zeros((len(texts), length), np.int64),
        }
        if "token_type_ids" in input_names:
            batch["token_type_ids"] = np.zeros((len(texts), length), np.int64)
        for i, e in enumerate(encoded):
            n = len(e["input_ids"])
            batch["input_ids"][i, :n] = e["input_ids"]
            batch["attention_mask"][i, :n] = 1
            if "token_type_ids" in batch and "token_type_ids" in e:
                batch["token_type_ids"][i, :n] = e["token_type_ids"]
        sets.append((f"{len(texts)} texts", batch))
    rng = np.random.RandomState(0)
    for length in sorted({min(n, limit) for n in RANDOM_LENGTHS}):
        ids = rng.randint(0, config.vocab_size, (2, length)).astype(np.int64)
        batch = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in input_names:
            batch["token_type_ids"] = np.zeros_like(ids)
        sets.append((f"random ids, length {length}", batch))
    return sets


def _real_positions(array: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The values at unpadded positions when the leading axes are (batch, [choices,] sequence)."""
    if array.shape[: mask.ndim] == mask.shape:
        return array[mask.astype(bool)]
    flat = mask.reshape(-1, mask.shape[-1])
    if array.shape[:2] == flat.shape:  # multiple choice: hidden states flatten the choice axis
        return array[flat.astype(bool)]
    return array


def _compare(ours, theirs, mask) -> dict[str, float]:
    """(max abs error, largest |value| of PyTorch's) per output and per hidden state."""
    errors = {}
    for key in ours:
        if key in ("loss", "hidden_states", "attentions", "past_key_values"):
            continue
        b = getattr(theirs, key, None)
        if b is None or not hasattr(b, "numpy"):
            continue
        errors[key] = _max_diff(np.asarray(ours[key]), b.detach().numpy(), mask)
    ours_states, theirs_states = ours.get("hidden_states"), getattr(theirs, "hidden_states", None)
    if ours_states is not None and theirs_states is not None:
        if len(ours_states) != len(theirs_states):
            errors["hidden_states (count)"] = (math.inf, 0.0)
        for i, (a, b) in enumerate(zip(ours_states, theirs_states)):
            errors[f"hidden_states[{i}]"] = _max_diff(np.asarray(a), b.detach().numpy(), mask)
    return errors


def _max_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    if a.shape != b.shape:
        if a.size != b.size:
            return math.inf, 0.0
        b = b.reshape(a.shape)
    a, b = _real_positions(a, mask), _real_positions(b, mask)
    if a.size == 0:
        return 0.0, 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))), float(np.max(np.abs(b)))


def _torch_model(theirs, folder, ours, torch, safetensors_torch):
    """transformers' model from ``folder``; weights the folder lacks are taken from ours."""
    model, info = theirs.from_pretrained(folder, output_loading_info=True, attn_implementation="eager")
    missing = list(info.get("missing_keys", [])) + [
        k[0] if isinstance(k, tuple) else k for k in info.get("mismatched_keys", [])
    ]
    if missing:  # a head the checkpoint has no weights for: random on our side, the same values there
        with tempfile.TemporaryDirectory() as tmp:
            ours.save_pretrained(tmp)
            saved = _read_safetensors(Path(tmp), safetensors_torch)
        # a tied copy (BERT's decoder.bias is predictions.bias) is filled by its twin
        model.load_state_dict({k: saved[k] for k in missing if k in saved}, strict=False)
    return model.eval(), missing


def _read_safetensors(folder: Path, safetensors_torch) -> dict:
    tensors = {}
    for file in sorted(folder.glob("*.safetensors")):
        tensors.update(safetensors_torch.load_file(str(file)))
    return tensors


def _weight_rows(head: str, ours, theirs_class, torch_model, max_error: float) -> list[VerificationRow]:
    """Our weights saved with save_pretrained and reloaded in PyTorch, per tensor, against PyTorch's."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours.save_pretrained(tmp)
        reloaded, info = theirs_class.from_pretrained(tmp, output_loading_info=True)
    for key in info.get("missing_keys", []):
        rows.append(VerificationRow("weights", head, key, math.inf, False, "missing from our save_pretrained"))
    expected = torch_model.state_dict()
    got = reloaded.state_dict()
    for name, tensor in expected.items():
        if name not in got or not tensor.is_floating_point():
            continue
        a, b = got[name].detach().double().numpy(), tensor.detach().double().numpy()
        error = math.inf if a.shape != b.shape else float(np.max(np.abs(a - b))) if a.size else 0.0
        rows.append(
            VerificationRow("weights", head, name, error, error <= max_error, "" if error <= max_error else "differs")
        )
    return rows


def verify_checkpoint(
    checkpoint,
    max_error: float = DEFAULT_MAX_ERROR,
    heads: list[str] | None = None,
    reference=None,
    texts: tuple[str, ...] | list[str] | None = None,
    max_new_tokens: int = GENERATION_NEW_TOKENS,
    revision: str | None = None,
    cache_dir=None,
) -> VerificationReport:
    """Check ``checkpoint`` in kerasformers against PyTorch transformers; see the module doc.

    ``heads``: limit to these heads (task names such as ``"text-classification"``, registry keys
    such as ``"sequence_classification"``, or class names); default every head of the
    checkpoint's model_type. ``reference``: the checkpoint PyTorch loads (default the same).
    ``texts``: the real texts (default :data:`VERIFY_TEXTS`).

    Example:
        >>> report = verify_checkpoint("sentence-transformers/all-MiniLM-L6-v2", heads=["base"])
        >>> report.passed
        True
    """
    torch, transformers = _require_torch()

    from kerasformers.configuration import PretrainedConfig
    from kerasformers.hub import resolve_checkpoint

    if not max_error > 0:
        raise InvalidInputError(f"max_error must be positive, got {max_error}.")
    folder = resolve_checkpoint(checkpoint, revision=revision, cache_dir=cache_dir)
    torch_folder = folder if reference is None else resolve_checkpoint(reference, cache_dir=cache_dir)
    config = PretrainedConfig.from_pretrained(folder)
    texts = list(VERIFY_TEXTS if texts is None else texts)
    report = VerificationReport(str(checkpoint), str(checkpoint if reference is None else reference), max_error)

    with _quiet(transformers):  # load reports and retracing warnings would bury the table
        _run_checks(report, config, folder, torch_folder, texts, heads, max_error, max_new_tokens, torch, transformers)
    return report


@contextlib.contextmanager
def _quiet(transformers):
    from kerasformers import logging as kf_logging

    tf_logger = logging.getLogger("tensorflow")
    saved = (kf_logging.get_verbosity(), transformers.logging.get_verbosity(), tf_logger.level)
    kf_logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    tf_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        kf_logging.set_verbosity(saved[0])
        transformers.logging.set_verbosity(saved[1])
        transformers.logging.enable_progress_bar()
        tf_logger.setLevel(saved[2])


def _run_checks(report, config, folder, torch_folder, texts, heads, max_error, max_new_tokens, torch, transformers):
    import safetensors.torch as safetensors_torch

    ours_tokenizer = _tokenizer_rows(report, folder, torch_folder, texts, transformers)
    heads_found = _heads_for(config.model_type, heads, transformers)
    generative = any(k == "causal_lm" for k, _, _ in heads_found) and (
        getattr(config, "is_decoder", False)
        or not any(k == "masked_lm" for k, _, _ in _heads_for(config.model_type, None, transformers))
    )
    primary = _primary_head(config, heads_found)
    input_sets = None
    for key, ours_class, theirs_class in heads_found:
        import keras

        keras.utils.set_random_seed(0)  # a head the checkpoint lacks starts from the same values each run
        ours, info = ours_class.from_pretrained(folder, output_loading_info=True)
        torch_model, copied = _torch_model(theirs_class, torch_folder, ours, torch, safetensors_torch)
        if copied:
            report.notes.append(
                f"{ours_class.__name__}: {len(copied)} head weight(s) not in the checkpoint, "
                "randomly initialised on both sides"
            )
        if input_sets is None:
            names = set(getattr(ours_class, "main_input_names", None) or ()) | {"input_ids", "attention_mask"}
            if getattr(config, "type_vocab_size", 0):
                names.add("token_type_ids")
            input_sets = _input_sets(config, ours_tokenizer, texts, names)
        worst: dict[str, tuple[float, float, str]] = {}
        for description, inputs in input_sets:
            feed = inputs
            if key == "multiple_choice":  # (batch, choices, length): two choices per example
                feed = {k: np.stack([v, np.roll(v, 1, axis=0)], axis=1) for k, v in inputs.items()}
            out = ours(feed, output_hidden_states=True)
            with torch.no_grad():
                ref = torch_model(**{k: torch.tensor(v) for k, v in feed.items()}, output_hidden_states=True)
            for name, (error, scale) in _compare(out, ref, feed["attention_mask"]).items():
                if name not in worst or error > worst[name][0] or math.isnan(error):
                    worst[name] = (error, scale, description)
        for name, (error, scale, description) in worst.items():
            detail = f"{description}; largest |value| {scale:.3g}"
            passed = error <= max_error * max(1.0, scale)  # see the module docstring
            report.rows.append(VerificationRow("outputs", ours_class.__name__, name, error, passed, detail, scale))
        if ours_class is primary:
            report.rows.extend(_weight_rows(ours_class.__name__, ours, theirs_class, torch_model, max_error))
        if key == "causal_lm" and generative:
            report.rows.extend(
                _generation_rows(
                    ours_class.__name__, ours, torch_model, ours_tokenizer, texts, config, max_new_tokens, torch
                )
            )
        del ours, torch_model


def _primary_head(config, heads_found):
    """The head the weight round trip is checked on: the checkpoint's own class, else the first."""
    architectures = set(getattr(config, "architectures", None) or ())
    return next((ours for _, ours, theirs in heads_found if theirs.__name__ in architectures), heads_found[0][1])


def _tokenizer_rows(report, folder, torch_folder, texts, transformers):
    """Our tokenizer's ids against transformers' AutoTokenizer's, text by text; returns ours."""
    from kerasformers.errors import KerasformersError
    from kerasformers.tokenization.auto import AutoTokenizer

    try:
        ours = AutoTokenizer.from_pretrained(folder)
    except KerasformersError as error:
        report.notes.append(f"no tokenizer checked ({str(error).splitlines()[0]}); random ids only")
        return None
    theirs = transformers.AutoTokenizer.from_pretrained(torch_folder)
    for i, text in enumerate(texts):
        a, b = list(ours(text)["input_ids"]), list(theirs(text)["input_ids"])
        differ = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
        detail = "" if not differ else f"ours {a[:12]}... theirs {b[:12]}..."
        report.rows.append(VerificationRow("tokenizer", "", f"text {i}: {text[:24]}", differ, differ == 0, detail))
    return ours


def _generation_rows(head, ours, torch_model, tokenizer, texts, config, max_new_tokens, torch):
    """Greedy generate() on a few prompts: the count of new tokens that differ, per prompt."""
    rows = []
    if tokenizer is not None and texts:
        prompts = [np.asarray([tokenizer(t)["input_ids"]], np.int64) for t in texts[:GENERATION_PROMPTS]]
    else:
        rng = np.random.RandomState(1)
        prompts = [rng.randint(0, config.vocab_size, (1, n)).astype(np.int64) for n in (4, 9, 15)]
    for i, ids in enumerate(prompts):
        mask = np.ones_like(ids)
        kwargs = dict(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        a = np.asarray(ours.generate(ids, attention_mask=mask, **kwargs))[0, ids.shape[1] :]
        with torch.no_grad():
            b = torch_model.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), **kwargs)[
                0, ids.shape[1] :
            ].numpy()
        differ = sum(int(x != y) for x, y in zip(a, b)) + abs(len(a) - len(b))
        detail = f"{len(b)} new tokens" if not differ else f"ours {a.tolist()} theirs {b.tolist()}"
        rows.append(VerificationRow("generation", head, f"greedy prompt {i}", differ, differ == 0, detail))
    return rows


# ------------------------------------------------------------------------------------ the model card
VERIFICATION_BEGIN = "<!-- kerasformers:verification:begin -->"
VERIFICATION_END = "<!-- kerasformers:verification:end -->"


def push_report(report: VerificationReport, repo_id: str, *, token=None, revision=None):
    """Write ``report`` into the Hub repository's model card as its "Verification" section.

    An earlier section written by this function is replaced; the rest of the card is kept.
    Returns huggingface_hub's CommitInfo.

    Example:
        >>> push_report(verify_checkpoint("me/tiny-bert"), "me/tiny-bert", token=token).oid
    """
    from kerasformers.hub_push import download_existing_card, hub_api, hub_errors

    card = download_existing_card(repo_id, token=token, revision=revision) or f"# {repo_id}\n"
    section = f"{VERIFICATION_BEGIN}\n{report.to_markdown().strip()}\n{VERIFICATION_END}"
    if VERIFICATION_BEGIN in card and VERIFICATION_END in card:
        before, rest = card.split(VERIFICATION_BEGIN, 1)
        card = before + section + rest.split(VERIFICATION_END, 1)[1]
    else:
        card = card.rstrip("\n") + "\n\n" + section + "\n"
    api = hub_api(token)
    verdict = "passed" if report.passed else "failed"
    with hub_errors(repo_id, api.endpoint):
        return api.upload_file(
            path_or_fileobj=card.encode("utf-8"),
            path_in_repo="README.md",
            repo_id=repo_id,
            revision=revision,
            commit_message=f"Verification against PyTorch transformers: {verdict} (kerasformers verify)",
        )


# ------------------------------------------------------------------------------------ the command
def add_verify_parser(subparsers) -> None:
    """Declare ``kerasformers verify CHECKPOINT [--max-error 5e-5] [--heads ...] [--report file.md]``."""
    p = subparsers.add_parser(
        "verify",
        help="check a checkpoint against PyTorch transformers (outputs, weights, tokenizer, generate)",
        description="Load a checkpoint in kerasformers and in PyTorch transformers, run every head on "
        "real texts and random ids, and compare outputs and hidden states, weights after a save/reload, "
        "tokenizer ids and greedy generation. Exit code 0 when every error is within --max-error, "
        "1 otherwise. Needs kerasformers[test] (torch, transformers).",
    )
    p.add_argument("checkpoint", help="checkpoint folder or hub name")
    p.add_argument(
        "--max-error",
        type=float,
        default=DEFAULT_MAX_ERROR,
        help="largest max abs error allowed (default 5e-5); outputs whose values exceed 1 in magnitude are held "
        "to this relative to their largest |value| (float32 resolution)",
    )
    p.add_argument("--heads", nargs="+", help="only these heads (task names, e.g. text-classification, or class names)")
    p.add_argument(
        "--reference", help="the checkpoint PyTorch loads (default: the same); checks a copy against its source"
    )
    p.add_argument("--report", help="write the report as markdown to this file")
    p.add_argument("--revision", help="hub revision (branch, tag or commit)")
    p.add_argument(
        "--push", action="store_true", help="write the report into the hub repository's model card (Verification)"
    )
    p.add_argument("--token", help="hub token with write access, for --push (default: the logged-in token)")
    p.set_defaults(run=run_verify)


def run_verify(args) -> int:
    """``kerasformers verify``: print the table, write ``--report``; exits 1 when a check failed."""
    import sys

    if args.push and Path(args.checkpoint).exists():
        raise InvalidInputError(
            f"--push writes the report into a hub repository's model card; {args.checkpoint} is a local path. "
            "Pass the repository name (org/name) instead."
        )
    report = verify_checkpoint(
        args.checkpoint, max_error=args.max_error, heads=args.heads, reference=args.reference, revision=args.revision
    )
    print(report.to_table())
    if args.report:
        path = Path(args.report)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(report.to_markdown(), encoding="utf-8")
        partial.replace(path)  # never a half-written report
        print(f"Report written to {path}")
    if args.push:
        commit = push_report(report, args.checkpoint, token=args.token, revision=args.revision)
        print(f"Report pushed to {args.checkpoint}'s model card ({commit.oid})")
    if not report.passed:
        worst = max(report.failures, key=lambda r: r.error)
        print(
            f"kerasformers verify: {len(report.failures)} check(s) over {args.max_error:g}; "
            f"worst: {worst.section} {worst.head} {worst.name} ({_format(worst)})",
            file=sys.stderr,
        )
        sys.exit(1)
    return 0
