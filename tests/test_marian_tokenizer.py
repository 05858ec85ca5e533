"""MarianTokenizer against transformers 5.23's MarianTokenizer (the oracle, through the sentencepiece package) on
the same files: source.spm / target.spm trained here by sentencepiece's trainer on the movie-review sentences
(the target side on the upper-cased sentences) and their joint vocab.json (tests/seq2seq_data.py)."""

import json
import shutil
import warnings

import pytest
import transformers
from seq2seq_data import movie_sentences, write_marian_tokenizer

from kerasformers import AutoTokenizer, MarianTokenizer

TEXTS = [
    "The Rock is destined to be the 21st Century's new ''Conan''.",
    "Héllo wörld, café  ﬁne ①  x\ttab\nnewline",
    "",
    "  lead </s> mid <pad> end <unk>",
    ">>fr<< A language code first.",
]


def _theirs(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses."
        return transformers.MarianTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def marian_folder(tmp_path_factory):
    folder = write_marian_tokenizer(tmp_path_factory.mktemp("marian_tokenizer"))
    vocab = json.loads((folder / "vocab.json").read_text("utf-8"))
    vocab[">>fr<<"] = len(vocab)  # a language code, as multilingual opus-mt vocabularies have
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    (folder / "config.json").write_text('{"model_type": "marian"}', "utf-8")
    return folder


@pytest.fixture(scope="module")
def pair(marian_folder):
    return AutoTokenizer.from_pretrained(marian_folder), _theirs(marian_folder)


def test_marian_ids_labels_and_decode_match_transformers(pair):
    ours, theirs = pair
    assert type(ours) is MarianTokenizer
    assert (ours.eos_token_id, ours.unk_token_id, ours.pad_token_id) == (
        theirs.eos_token_id,
        theirs.unk_token_id,
        theirs.pad_token_id,
    )
    assert len(ours) == len(theirs) and ours.vocab_size == theirs.vocab_size
    assert ours.get_vocab() == theirs.get_vocab() and ours.all_special_tokens == theirs.all_special_tokens
    sources = TEXTS + movie_sentences(1800)[1500:]
    targets = [text if text.startswith(">>") else text.upper() for text in sources]
    for options in (dict(), dict(padding=True), dict(padding="max_length", max_length=12, truncation=True)):
        got, want = ours(sources, text_target=targets, **options), theirs(sources, text_target=targets, **options)
        assert dict(got) == dict(want), options
    assert dict(ours(text_target=targets)) == dict(theirs(text_target=targets))
    assert dict(ours(TEXTS, TEXTS[::-1])) == dict(theirs(TEXTS, TEXTS[::-1]))  # pairs: A B </s>
    assert ours(TEXTS[0])["input_ids"][-1] == ours.eos_token_id
    for text in TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text)
    labels = theirs(text_target=targets)["input_ids"] + theirs(sources)["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(labels, skip_special_tokens=skip) == theirs.batch_decode(
            labels, skip_special_tokens=skip
        )
    assert ours.convert_ids_to_tokens(labels[0]) == theirs.convert_ids_to_tokens(labels[0])


def test_marian_separate_vocabularies_match_transformers(marian_folder, tmp_path):
    folder = tmp_path / "separate"
    shutil.copytree(marian_folder, folder)
    from kerasformers.tokenization.sentencepiece import read_sentencepiece_model_proto

    pieces = read_sentencepiece_model_proto((folder / "target.spm").read_bytes())["pieces"]
    target_vocab = {piece: i for i, piece in enumerate(pieces)}
    target_vocab["<pad>"] = len(target_vocab)
    (folder / "target_vocab.json").write_text(json.dumps(target_vocab, ensure_ascii=False), "utf-8")
    config = json.loads((folder / "tokenizer_config.json").read_text("utf-8"))
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "separate_vocabs": True}), "utf-8")
    ours, theirs = AutoTokenizer.from_pretrained(folder), _theirs(folder)
    targets = [text.upper() for text in TEXTS[:-1] + movie_sentences(1600)[1500:]]
    got, want = ours(TEXTS[:-1], text_target=targets[:4]), theirs(TEXTS[:-1], text_target=targets[:4])
    assert dict(got) == dict(want)
    labels = theirs(text_target=targets)["input_ids"]
    assert ours.batch_decode(labels, skip_special_tokens=True) == theirs.batch_decode(labels, skip_special_tokens=True)


def test_marian_saves_and_loads_in_both(pair, tmp_path):
    ours, theirs = pair
    ours.save_pretrained(tmp_path)
    assert {"source.spm", "target.spm", "vocab.json"} <= {path.name for path in tmp_path.iterdir()}
    targets = [text.upper() for text in TEXTS[:-1]]
    for reloaded in (AutoTokenizer.from_pretrained(tmp_path), _theirs(tmp_path)):
        assert dict(reloaded(TEXTS[:-1], text_target=targets)) == dict(theirs(TEXTS[:-1], text_target=targets))


def test_in_graph_marian_tokenizer_matches_python(pair):
    import tensorflow as tf

    from kerasformers.models.marian.tokenization_marian import TFMarianTokenizer

    ours, _ = pair
    layer = TFMarianTokenizer.from_tokenizer(ours)
    texts = TEXTS + movie_sentences(1700)[1500:] + ["a  b   c", "x\u00a0nbsp"]
    assert layer(texts, padding=False)["input_ids"].to_list() == ours(texts)["input_ids"]
    padded, expected = layer(TEXTS, padding=True), ours(TEXTS, padding=True, return_tensors="np")
    assert padded["input_ids"].numpy().tolist() == expected["input_ids"].tolist()
    assert padded["attention_mask"].numpy().tolist() == expected["attention_mask"].tolist()
    # generated ids are target-side: decode the upper-cased (target model) labels
    labels = ours(text_target=[text.upper() for text in texts[:-1]])["input_ids"]
    decoded = [text.decode("utf-8") for text in layer.detokenize(tf.ragged.constant(labels)).numpy()]
    assert decoded == ours.batch_decode(labels, skip_special_tokens=True)


@pytest.mark.slow  # a tiny Marian exported and served (~1 min)
def test_marian_text2text_export_matches_transformers(marian_folder, tmp_path):
    import tensorflow as tf
    import torch

    from kerasformers.serving import export_pipeline

    theirs = _theirs(marian_folder)
    folder = tmp_path / "marian"
    shutil.copytree(marian_folder, folder)
    config = transformers.MarianConfig(
        vocab_size=len(theirs),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=theirs.pad_token_id,
        eos_token_id=theirs.eos_token_id,
        decoder_start_token_id=theirs.pad_token_id,
        init_std=0.5,  # larger random weights: greedy picks varied tokens
    )
    torch.manual_seed(0)
    model = transformers.MarianMTModel(config).eval()
    model.save_pretrained(folder)
    texts = ["The film is great fun.", "Bad", "A dull and lifeless movie."]
    batch = theirs(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = model.generate(**batch, do_sample=False, num_beams=1, max_new_tokens=6)[:, 1:].numpy()
    path = export_pipeline(folder, tmp_path / "served", task="text2text-generation", max_new_tokens=6, num_beams=1)
    got = tf.saved_model.load(str(path)).signatures["serving_default"](text=tf.constant(texts))
    assert got["generated_ids"].numpy().tolist() == expected.tolist()
    assert [t.decode() for t in got["generated_text"].numpy()] == theirs.batch_decode(
        expected, skip_special_tokens=True
    )
