"""The token-embedding layer every model uses: Keras' Embedding, answering as transformers' TF layers did."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kerasformers")
class WordEmbeddings(keras.layers.Embedding):
    """``keras.layers.Embedding`` whose matrix also answers as ``weight`` and whose size as ``vocab_size``.

    transformers' TensorFlow models returned layers with a ``weight`` variable from
    ``get_input_embeddings()``; code reading ``model.get_input_embeddings().weight`` runs unchanged.

    Example:
        >>> layer = model.get_input_embeddings()
        >>> layer.weight.shape == (model.config.vocab_size, model.config.hidden_size)
        True
    """

    @property
    def weight(self):
        return self.embeddings

    @property
    def vocab_size(self) -> int:
        return self.input_dim
