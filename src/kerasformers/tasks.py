"""The task table: one row per task, the single place that says what a task is.

Each :class:`Task` ties together what used to be spelled out in several places: the
pipeline name (``"text-classification"``) and its aliases, the auto class that loads a model
for it (``TFAutoModelForSequenceClassification``, by name), the key architectures register their
head class under (``register_auto_classes("bert", sequence_classification=...)``), the label
arguments a head's loss takes, and the end-to-end export's post-processor.

A core module: it imports only the standard library and :mod:`kerasformers.errors`, so the
models (``kerasformers.models.auto`` builds its auto classes from :data:`TASKS`) and serving
(``kerasformers.serving`` registers post-processors against task names) both read it without
importing each other.

Example:
    >>> resolve_task("sentiment-analysis").auto_class
    'TFAutoModelForSequenceClassification'
"""

from __future__ import annotations

from dataclasses import dataclass

from kerasformers.errors import UnsupportedModelTypeError

__all__ = [
    "Task",
    "TASKS",
    "PIPELINE_ONLY_TASKS",
    "pipeline_tasks",
    "resolve_task",
    "task_for_registry_key",
    "export_task_names",
    "task_aliases",
]


@dataclass(frozen=True)
class Task:
    """One task.

    ``name``: the pipeline task name, as transformers' ``pipeline(task)``. ``aliases``: other
    names accepted for it. ``auto_class``: the name of the ``TFAutoModel*`` class for it (a
    string: this module does not import the models). ``registry_key``: the keyword an
    architecture registers its head class under in ``register_auto_classes``. ``label_names``:
    the arguments a head's loss takes (empty: the model has no loss). ``postprocessor``: the
    name of the function in ``kerasformers.serving.postprocess`` that turns the model's outputs
    into the end-to-end export's predictions, or None. ``exportable``: ``kerasformers export
    --task`` takes it.

    Example:
        >>> Task("text-classification", "TFAutoModelForSequenceClassification", "sequence_classification")
    """

    name: str
    auto_class: str
    registry_key: str
    aliases: tuple[str, ...] = ()
    label_names: tuple[str, ...] = ("labels",)
    postprocessor: str | None = None
    exportable: bool = False
    pipeline: str | None = None


TASKS: tuple[Task, ...] = (
    Task(
        "feature-extraction",
        "TFAutoModel",
        "base",
        aliases=("sentence-similarity", "embeddings"),
        label_names=(),
        postprocessor="mean_pooled_embeddings",
        exportable=True,
        pipeline="FeatureExtractionPipeline",
    ),
    Task(
        "text-classification",
        "TFAutoModelForSequenceClassification",
        "sequence_classification",
        aliases=("sentiment-analysis",),
        postprocessor="sequence_labels",
        exportable=True,
        pipeline="TextClassificationPipeline",
    ),
    Task(
        "token-classification",
        "TFAutoModelForTokenClassification",
        "token_classification",
        aliases=("ner",),
        postprocessor="token_labels",
        exportable=True,
        pipeline="TokenClassificationPipeline",
    ),
    Task(
        "question-answering",
        "TFAutoModelForQuestionAnswering",
        "question_answering",
        label_names=("start_positions", "end_positions"),
        postprocessor="answer_span",
        exportable=True,
        pipeline="QuestionAnsweringPipeline",
    ),
    # text-generation exports its own graph (the generate loop), not a post-processor
    Task("text-generation", "TFAutoModelForCausalLM", "causal_lm", exportable=True, pipeline="TextGenerationPipeline"),
    Task("fill-mask", "TFAutoModelForMaskedLM", "masked_lm", pipeline="FillMaskPipeline"),
    # encoder-decoder models (T5, BART, Marian); transformers' pipeline names for it are aliases
    # its export is its own graph too: tokenizer + seq2seq generate loop (serving/text2text_generation.py)
    Task(
        "text2text-generation",
        "TFAutoModelForSeq2SeqLM",
        "seq2seq_lm",
        exportable=True,
        pipeline="Text2TextGenerationPipeline",
    ),
    Task("multiple-choice", "TFAutoModelForMultipleChoice", "multiple_choice"),
    # images: pixel_values in (ViT, DeiT); the export reads encoded JPEG/PNG bytes (serving/image_classification.py)
    Task(
        "image-classification",
        "TFAutoModelForImageClassification",
        "image_classification",
        exportable=True,
        pipeline="ImageClassificationPipeline",
    ),
    # SimMIM's pixel reconstruction; its loss needs bool_masked_pos, not labels
    Task(
        "masked-image-modeling",
        "TFAutoModelForMaskedImageModeling",
        "masked_image_modeling",
        label_names=("bool_masked_pos",),
    ),
    # CLIP: images scored against candidate label texts (the model's loss is contrastive, no labels)
    Task(
        "zero-shot-image-classification",
        "TFAutoModelForZeroShotImageClassification",
        "zero_shot_image_classification",
        label_names=(),
        exportable=True,  # a fixed label set: serving/zero_shot_image_classification.py
        pipeline="ZeroShotImageClassificationPipeline",
    ),
    # captioning: an image encoder and a text decoder (VisionEncoderDecoder), labels are caption ids;
    # its export is image bytes -> text with the generate loop inside (serving/image_to_text.py)
    Task("image-to-text", "TFAutoModelForVision2Seq", "vision2seq", exportable=True, pipeline="ImageToTextPipeline"),
    # speech: log-mel input_features in (Whisper); transcripts out of the seq2seq generate loop
    Task(
        "automatic-speech-recognition",
        "TFAutoModelForSpeechSeq2Seq",
        "speech_seq2seq",
        exportable=True,  # audio in, text out: serving/speech_recognition.py
        pipeline="AutomaticSpeechRecognitionPipeline",
    ),
    Task("audio-classification", "TFAutoModelForAudioClassification", "audio_classification"),
    # transformers' TF auto classes without a pipeline: pre-training heads, next-sentence
    # prediction, and the deprecated TFAutoModelWithLMHead (masked LM for encoders, causal LM for decoders)
    Task("pretraining", "TFAutoModelForPreTraining", "pretraining", label_names=("labels", "next_sentence_label")),
    Task(
        "next-sentence-prediction",
        "TFAutoModelForNextSentencePrediction",
        "next_sentence_prediction",
        label_names=("next_sentence_label",),
    ),
    Task("lm-head", "TFAutoModelWithLMHead", "lm_head"),
)

# Pipeline tasks that run another task's head: no auto class of their own (models/auto.py builds
# one auto class per TASKS row), but a name pipeline() resolves and the head a model must have.
PIPELINE_ONLY_TASKS: tuple[Task, ...] = (
    # an NLI head (sequence classification with an "entailment" label) scores premise/hypothesis pairs
    Task(
        "zero-shot-classification",
        "TFAutoModelForSequenceClassification",
        "sequence_classification",
        pipeline="ZeroShotClassificationPipeline",
    ),
    # encoder-decoder generation under transformers' summarization / translation(_xx_to_yy) pipeline names
    Task("summarization", "TFAutoModelForSeq2SeqLM", "seq2seq_lm", pipeline="SummarizationPipeline"),
    Task("translation", "TFAutoModelForSeq2SeqLM", "seq2seq_lm", pipeline="TranslationPipeline"),
    # an image model's last hidden state (the [CLS] token's, or all of them) as features
    Task("image-feature-extraction", "TFAutoModel", "base", label_names=(), pipeline="ImageFeatureExtractionPipeline"),
)

_BY_NAME = {task.name: task for task in TASKS + PIPELINE_ONLY_TASKS}
_BY_ALIAS = {alias: task for task in TASKS + PIPELINE_ONLY_TASKS for alias in task.aliases}


def task_aliases() -> dict[str, str]:
    """Every alias -> its task's name.

    Example:
        >>> task_aliases()["ner"]
        'token-classification'
    """
    return {alias: task.name for alias, task in _BY_ALIAS.items()}


def pipeline_tasks() -> tuple[Task, ...]:
    """The rows ``pipeline(task)`` takes (those with a ``pipeline`` class), in table order.

    Example:
        >>> [task.name for task in pipeline_tasks()][:2]
        ['feature-extraction', 'text-classification']
    """
    return tuple(task for task in TASKS + PIPELINE_ONLY_TASKS if task.pipeline)


def export_task_names() -> tuple[str, ...]:
    """The tasks ``kerasformers export --task`` takes, in table order.

    Example:
        >>> export_task_names()[:2]
        ('feature-extraction', 'text-classification')
    """
    return tuple(task.name for task in TASKS if task.exportable)


def resolve_task(name: str, *, exportable: bool = False) -> Task:
    """The row for a task name or alias (``"ner"`` -> token-classification's row).

    With ``exportable=True`` only the tasks ``kerasformers export`` takes are accepted. An
    unknown name raises :class:`~kerasformers.errors.UnsupportedModelTypeError` listing the choices.

    Example:
        >>> resolve_task("ner").name
        'token-classification'
    """
    task = _BY_NAME.get(name) or _BY_ALIAS.get(name)
    if task is None or (exportable and not task.exportable):
        choices = [t for t in TASKS + PIPELINE_ONLY_TASKS if t.exportable or not exportable]
        aliases = sorted(alias for t in choices for alias in t.aliases)
        raise UnsupportedModelTypeError(
            f"Unknown task {name!r}. Tasks: {', '.join(t.name for t in choices)} (aliases: {', '.join(aliases)})."
        )
    return task


def task_for_registry_key(key: str) -> Task:
    """The row whose ``registry_key`` is ``key`` (``"causal_lm"`` -> text-generation's row).

    Example:
        >>> task_for_registry_key("sequence_classification").auto_class
        'TFAutoModelForSequenceClassification'
    """
    for task in TASKS:
        if task.registry_key == key:
            return task
    raise UnsupportedModelTypeError(
        f"Unknown task key {key!r}. Keys: {', '.join(task.registry_key for task in TASKS)}."
    )
