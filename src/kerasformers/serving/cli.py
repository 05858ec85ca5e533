"""``kerasformers export``: its flags and its run functions (SavedModel and ONNX).

Importing this module imports no TensorFlow: ``kerasformers --help`` declares these flags.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasformers.serving.onnx import DEFAULT_OPSET, export_checkpoint_onnx
from kerasformers.serving.pipeline_export import export_pipeline, normalize_task
from kerasformers.serving.text_generation import PROMPT_TRUNCATION
from kerasformers.tasks import export_task_names, task_aliases

__all__ = [
    "add_export_parser",
    "run_export",
    "run_image_export",
    "run_image_to_text_export",
    "run_zero_shot_image_export",
    "run_onnx_export",
    "run_encoder_litert_export",
    "run_speech_recognition_export",
    "run_litert_export",
]


def add_export_parser(subparsers) -> None:
    """Declare ``kerasformers export CHECKPOINT DIR [--task ...] [--with-tokenizer]``."""
    p = subparsers.add_parser(
        "export",
        help="write a checkpoint as a TF Serving SavedModel (or ONNX: --format onnx)",
        description="Export a checkpoint as a SavedModel in TF Serving's layout (DIR/<version>/). With "
        "--with-tokenizer the serving signature takes strings and returns the task's "
        "predictions; without it, int32/int64 token ids and the model's outputs.",
    )
    p.add_argument("checkpoint", help="checkpoint folder or name")
    p.add_argument("output_dir", help="export folder; the model goes into OUTPUT_DIR/<version>/")
    # The choices are the task table's; not argparse choices, so an unknown task is one line from
    # the run (exit code 2, as every other bad option) and aliases are taken too.
    p.add_argument(
        "--task",
        default="text-classification",
        help=f"one of {', '.join(export_task_names())} (aliases: {', '.join(sorted(task_aliases()))})",
    )
    p.add_argument("--with-tokenizer", action="store_true", help="put the tokenizer into the graph")
    p.add_argument(
        "--with-processor",
        action="store_true",
        help="image tasks: put the image processor into the graph (encoded JPEG/PNG bytes in, label and score out)",
    )
    p.add_argument(
        "--format",
        choices=("saved_model", "onnx", "litert"),
        default="saved_model",
        help="onnx: the model alone as OUTPUT_DIR/model.onnx (needs kerasformers[onnx]); litert: a .tflite file "
        "at OUTPUT_DIR (Whisper: encoder + fixed-length greedy decoder, --language, --max-new-tokens)",
    )
    p.add_argument(
        "--int8", action="store_true", help="--format litert, encoder heads: int8 weights (dynamic-range quantization)"
    )
    p.add_argument("--opset", type=int, help="--format onnx: the ONNX opset (default 17)")
    p.add_argument("--version", type=int, help="version folder (default: one more than the largest there)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --version folder (or, with --format onnx, OUTPUT_DIR/model.onnx)",
    )
    p.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    p.add_argument("--max-answer-len", type=int, default=15, help="question-answering: longest answer")
    zero_shot = p.add_argument_group("zero-shot-image-classification (CLIP): the fixed label set")
    zero_shot.add_argument("--candidate-labels", help="comma-separated labels, e.g. 'a cat,a dog'")
    zero_shot.add_argument(
        "--hypothesis-template", default="This is a photo of {}.", help="the text each label fills ({} for the label)"
    )
    generation = p.add_argument_group(
        "text-generation, text2text-generation and image-to-text (defaults: the checkpoint's generation_config)"
    )
    generation.add_argument("--max-new-tokens", type=int, help="tokens generated per prompt (else 20)")
    generation.add_argument(
        "--language", help="automatic-speech-recognition (Whisper): the spoken language, e.g. en (fixed in the graph)"
    )
    generation.add_argument(
        "--max-prompt-length", type=int, help="longest prompt in tokens (default min(512, positions - max new tokens))"
    )
    generation.add_argument(
        "--prompt-truncation",
        choices=PROMPT_TRUNCATION,
        default="error",
        help="a longer prompt fails the call (error) or keeps its last tokens (left)",
    )
    generation.add_argument(
        "--do-sample",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sample (a fresh seed per call) instead of greedy decoding",
    )
    generation.add_argument(
        "--num-beams",
        type=int,
        help="text2text-generation and image-to-text: beam search with this many beams (default: greedy)",
    )
    generation.add_argument(
        "--max-source-length",
        type=int,
        help="text2text-generation: longest source in tokens (default 512, or the model's positions)",
    )
    for name, kind in (
        ("temperature", float),
        ("top-k", int),
        ("top-p", float),
        ("min-p", float),
        ("repetition-penalty", float),
    ):
        generation.add_argument(f"--{name}", type=kind)
    p.set_defaults(run=run_export)


def run_export(args) -> Path:
    """Run ``kerasformers export`` from parsed arguments; prints the written folder."""
    if getattr(args, "format", "saved_model") == "onnx":
        return run_onnx_export(args)
    if getattr(args, "format", "saved_model") == "litert":
        return run_litert_export(args)
    if normalize_task(args.task) == "image-classification":
        return run_image_export(args)
    if normalize_task(args.task) == "zero-shot-image-classification":
        return run_zero_shot_image_export(args)
    if normalize_task(args.task) == "image-to-text":
        return run_image_to_text_export(args)
    if normalize_task(args.task) == "automatic-speech-recognition":
        return run_speech_recognition_export(args)
    generation = {}
    if normalize_task(args.task) == "text-generation":
        names = (
            "max_new_tokens",
            "max_prompt_length",
            "do_sample",
            "temperature",
            "top_k",
            "top_p",
            "min_p",
            "repetition_penalty",
        )
        generation = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
        generation["prompt_truncation"] = args.prompt_truncation
    elif normalize_task(args.task) == "text2text-generation":
        names = (
            "max_new_tokens",
            "max_source_length",
            "num_beams",
            "do_sample",
            "temperature",
            "top_k",
            "top_p",
            "min_p",
            "repetition_penalty",
        )
        generation = {name: getattr(args, name, None) for name in names if getattr(args, name, None) is not None}
    path = export_pipeline(
        args.checkpoint,
        args.output_dir,
        task=args.task,
        version=args.version,
        max_length=args.max_length,
        max_answer_len=args.max_answer_len,
        with_tokenizer=args.with_tokenizer,
        overwrite=args.overwrite,
        **generation,
    )
    print(path)
    return path


def run_image_export(args) -> Path:
    """``kerasformers export CHECKPOINT DIR --task image-classification --with-processor``; prints the folder.

    Example:
        >>> main(["export", "path/to/vit", "serving/vit", "--task", "image-classification", "--with-processor"])
    """
    from kerasformers.errors import ExportError
    from kerasformers.serving.image_classification import export_image_classification

    if not (getattr(args, "with_processor", False) or getattr(args, "with_tokenizer", False)):
        raise ExportError(
            "An image-classification export reads encoded JPEG/PNG bytes through the image processor in "
            "the graph: add --with-processor."
        )
    path = export_image_classification(
        args.checkpoint, args.output_dir, version=args.version, overwrite=getattr(args, "overwrite", False)
    )
    print(path)
    return path


def run_zero_shot_image_export(args) -> Path:
    """``kerasformers export CLIP DIR --task zero-shot-image-classification --candidate-labels 'a,b'``; prints DIR/N.

    Example:
        >>> main(["export", "path/to/clip", "serving/zs", "--task", "zero-shot-image-classification",
        ...       "--candidate-labels", "a cat,a dog", "--hypothesis-template", "a photo of {}"])
    """
    from kerasformers.serving.zero_shot_image_classification import export_zero_shot_image_classification

    path = export_zero_shot_image_classification(
        args.checkpoint,
        args.output_dir,
        getattr(args, "candidate_labels", None) or [],  # none: the export's error names --candidate-labels
        hypothesis_template=getattr(args, "hypothesis_template", None) or "This is a photo of {}.",
        version=args.version,
        overwrite=getattr(args, "overwrite", False),
    )
    print(path)
    return path


def run_image_to_text_export(args) -> Path:
    """``kerasformers export CAPTIONER DIR --task image-to-text --with-processor [--max-new-tokens N]``; prints DIR/N.

    Example:
        >>> main(["export", "path/to/vit-gpt2", "serving/cap", "--task", "image-to-text", "--with-processor"])
    """
    from kerasformers.errors import ExportError
    from kerasformers.serving.image_to_text import export_image_to_text

    if not (getattr(args, "with_processor", False) or getattr(args, "with_tokenizer", False)):
        raise ExportError(
            "An image-to-text export reads encoded JPEG/PNG bytes through the image processor in the graph "
            "and returns text: add --with-processor."
        )
    names = ("max_new_tokens", "num_beams", "do_sample", "temperature", "top_k", "top_p", "min_p", "repetition_penalty")
    generation = {name: getattr(args, name, None) for name in names if getattr(args, name, None) is not None}
    path = export_image_to_text(
        args.checkpoint,
        args.output_dir,
        version=args.version,
        overwrite=getattr(args, "overwrite", False),
        **generation,
    )
    print(path)
    return path


def run_speech_recognition_export(args) -> Path:
    """``kerasformers export WHISPER DIR --task automatic-speech-recognition --with-processor [--language en]``.

    Prints DIR/N: a SavedModel from float32 16 kHz audio [batch, samples] to text.

    Example:
        >>> main(["export", "path/to/whisper", "serving/whisper", "--task", "automatic-speech-recognition",
        ...       "--with-processor", "--language", "en"])
    """
    from kerasformers.errors import ExportError
    from kerasformers.models.auto import TFAutoModelForSpeechSeq2Seq
    from kerasformers.serving.speech_recognition import export_speech_recognition

    if not (getattr(args, "with_processor", False) or getattr(args, "with_tokenizer", False)):
        raise ExportError(
            "An automatic-speech-recognition export reads raw audio through the feature extractor in the graph and "
            "returns text: add --with-processor."
        )
    generation = {"max_new_tokens": args.max_new_tokens} if getattr(args, "max_new_tokens", None) else {}
    model = TFAutoModelForSpeechSeq2Seq.from_pretrained(args.checkpoint)
    path = export_speech_recognition(
        model,
        args.output_dir,
        language=getattr(args, "language", None),
        version=args.version,
        overwrite=getattr(args, "overwrite", False),
        **generation,
    )
    print(path)
    return path


def run_litert_export(args) -> Path:
    """``kerasformers export CHECKPOINT FILE.tflite --format litert [--language en] [--max-new-tokens N]``.

    The shared LiteRT entry point (serving/litert.py's ``export_litert``): Whisper checkpoints give
    their encoder and a fixed-length greedy decoder in one flatbuffer; prints the file.

    Example:
        >>> main(["export", "path/to/whisper", "whisper.tflite", "--format", "litert", "--language", "en"])
    """
    from kerasformers.configuration import PretrainedConfig
    from kerasformers.serving.litert import export_litert

    model_type = getattr(PretrainedConfig.from_pretrained(args.checkpoint), "model_type", None)
    if model_type != "whisper":  # encoder heads: --task text-classification | token-classification | feature-extraction
        return run_encoder_litert_export(args)
    from kerasformers.models.auto import TFAutoModelForSpeechSeq2Seq

    model = TFAutoModelForSpeechSeq2Seq.from_pretrained(args.checkpoint)
    path = export_litert(
        model,
        args.output_dir,
        language=getattr(args, "language", None),
        max_new_tokens=getattr(args, "max_new_tokens", None),
        overwrite=getattr(args, "overwrite", False),
    )
    print(path)
    return path


def run_onnx_export(args) -> Path:
    """``kerasformers export CHECKPOINT DIR --format onnx [--task ...] [--opset N]``; prints the file.

    Flags that only shape a SavedModel are refused rather than ignored.

    Example:
        >>> main(["export", "path/to/minilm", "onnx/minilm", "--format", "onnx", "--task", "feature-extraction"])
    """
    refused = [
        flag
        for flag, value in (
            ("--with-tokenizer", getattr(args, "with_tokenizer", False)),
            ("--version", getattr(args, "version", None)),
        )
        if value
    ]
    if refused:
        flags = " and ".join(refused)
        raise SystemExit(
            f"kerasformers export: error: {flags} {'is' if len(refused) == 1 else 'are'} not used by "
            f"--format onnx, which writes the model alone (tokenize with the checkpoint's "
            f"tokenizer). Drop {flags}, or use --format saved_model."
        )
    # A bad option, a missing tf2onnx or an existing model.onnx: kerasformers.cli.main prints the
    # error as one line and exits with 2.
    path = export_checkpoint_onnx(
        args.checkpoint,
        args.output_dir,
        task=args.task,
        opset=args.opset or DEFAULT_OPSET,
        overwrite=getattr(args, "overwrite", False),
    )
    print(path)
    return path


def run_encoder_litert_export(args) -> Path:
    """``kerasformers export CHECKPOINT model.tflite --format litert --task ... [--int8]``; prints the file.

    Example:
        >>> main(["export", "path/to/minilm", "minilm.tflite", "--format", "litert", "--task", "feature-extraction"])
    """
    from kerasformers.serving.litert_encoder import export_checkpoint_encoder_litert

    path = export_checkpoint_encoder_litert(
        args.checkpoint, args.output_dir, task=args.task, int8=getattr(args, "int8", False), overwrite=args.overwrite
    )
    print(path)
    return path
