"""Sentence vectors kept in the store: each text is encoded once per encoder, ever.

`ensure_vectors(db, encoder, texts)` is the one call the engine needs: it loads the vectors
already stored for these texts, encodes only the missing ones (in batches, one batch per core at
a time, with a progress bar on a terminal), saves them as each batch finishes (an interrupted
first run keeps what it did) and returns the matrix in the order of the texts.

Keys are (encoder name, hash of the exact text), not unit ids: a re-mined day, a new miner
version or a newly published day re-encodes only texts never seen before, and two units with
the same text share one vector. Runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.exc import SQLAlchemyError

from bot.store.schema import text_vectors

log = logging.getLogger(__name__)

BATCH = 32  # texts per encoding call: big enough to amortise the call, small enough for a smooth bar
_CHUNK = 500  # hashes per SELECT ... IN (...)


def text_hash(text: str) -> str:
    """The store's key for a text: blake2b-128 of its UTF-8 bytes (lone surrogates kept), hex."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def upsert(conn: Connection, table: Table, rows: list[dict], keys: Sequence[str]) -> None:
    """Insert rows, replacing those whose key exists (another process may have written them)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    values = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=values), rows)


def load_vectors(db: Engine, encoder: str, dim: int, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """Stored vectors of these text hashes (missing ones, or ones of another size, are left out)."""
    wanted = list(dict.fromkeys(hashes))
    found: dict[str, np.ndarray] = {}
    size = 4 * dim
    with db.connect() as conn:
        for start in range(0, len(wanted), _CHUNK):
            rows = conn.execute(select(text_vectors.c.text_hash, text_vectors.c.vector).where(
                text_vectors.c.encoder == encoder, text_vectors.c.text_hash.in_(wanted[start:start + _CHUNK])))
            for key, blob in rows:
                if len(blob) == size:
                    found[key] = np.frombuffer(blob, dtype="<f4")
    return found


def save_vectors(db: Engine, encoder: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Store one vector per hash (rows of `vectors`), replacing any stored under the same key."""
    data = np.ascontiguousarray(vectors, dtype="<f4")
    rows = [{"encoder": encoder, "text_hash": h, "vector": data[i].tobytes()} for i, h in enumerate(hashes)]
    with db.begin() as conn:
        upsert(conn, text_vectors, rows, ("encoder", "text_hash"))


def _progress(total: int, show: bool | None, description: str):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    enabled = console.is_terminal if show is None else show
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, disable=not enabled, transient=False)


def ensure_vectors(db: Engine, encoder, texts: Sequence[str], *, batch_size: int = BATCH, workers: int | None = None,
                   progress: bool | None = None, description: str = "encoding") -> np.ndarray:
    """Vectors of `texts` as passages, shape (len(texts), encoder.dim), float32, rows in order.

    Stored vectors are loaded; the rest are encoded with `encoder.encode_passages` in batches of
    `batch_size`, `workers` batches at a time (default: one per core; encoders release the GIL),
    each saved when done. `progress`: show a rich bar on stderr (None: only on a terminal).
    """
    hashes = [text_hash(t) for t in texts]
    found = load_vectors(db, encoder.name, encoder.dim, hashes)
    missing: dict[str, str] = {}
    for key, text in zip(hashes, texts):
        if key not in found:
            missing.setdefault(key, text)
    if missing:
        found.update(_encode_missing(db, encoder, missing, batch_size, workers, progress, description))
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    for i, key in enumerate(hashes):
        out[i] = found[key]
    return out


def _encode_missing(db: Engine, encoder, missing: dict[str, str], batch_size: int, workers: int | None,
                    progress: bool | None, description: str) -> dict[str, np.ndarray]:
    keys = sorted(missing, key=lambda k: len(missing[k]))  # alike lengths batch well
    batches = [keys[i:i + max(1, batch_size)] for i in range(0, len(keys), max(1, batch_size))]
    workers = workers or os.cpu_count() or 1
    log.info("encoding %d new text(s) with %s", len(keys), encoder.name)
    out: dict[str, np.ndarray] = {}
    with _progress(len(keys), progress, description) as bar, ThreadPoolExecutor(max_workers=workers) as pool:
        task = bar.add_task(f"{description} ({encoder.name})", total=len(keys))
        futures = {pool.submit(encoder.encode_passages, [missing[k] for k in batch]): batch for batch in batches}
        writable = True
        try:
            for future in as_completed(futures):
                batch, vectors = futures[future], future.result()
                if writable:
                    try:
                        save_vectors(db, encoder.name, batch, vectors)
                    except SQLAlchemyError as exc:  # read-only or full: still answer, encode again next start
                        log.warning("could not keep vectors in the store: %s", type(exc).__name__)
                        writable = False
                out.update(zip(batch, vectors))
                bar.advance(task, len(batch))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    if not sys.stderr.isatty():
        log.info("encoded %d text(s)", len(keys))
    return out
