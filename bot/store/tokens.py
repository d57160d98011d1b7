"""Content words of archived texts kept in the store, so a start need not run jieba again.

Segmenting every message is most of the time an index build takes (4 s of a 4.5 s `ask --db`
on the shared archive). `bot.qa.index.TextCache` loads the stored words of one segmenter
version at start-up and saves the words of texts it had to segment itself. Keys are hashes of
the raw text, so new or changed days add rows and nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from bot.store.schema import text_tokens
from bot.store.vectors import upsert

_ROWS = 2000  # rows per INSERT statement


def load_tokens(db: Engine, tokenizer: str) -> dict[str, tuple[str, str]]:
    """Every stored text of this segmenter version: raw text hash -> (normalised text hash, words joined by spaces)."""
    query = select(text_tokens.c.text_hash, text_tokens.c.norm_hash, text_tokens.c.words).where(
        text_tokens.c.tokenizer == tokenizer)
    with db.connect() as conn:
        return {key: (norm, words) for key, norm, words in conn.execute(query)}


def save_tokens(db: Engine, tokenizer: str, rows: Iterable[tuple[str, str, tuple[str, ...]]]) -> int:
    """Store (text hash, normalised text hash, words) rows; returns how many were written."""
    values = [{"tokenizer": tokenizer, "text_hash": key, "norm_hash": norm, "words": " ".join(words)}
              for key, norm, words in rows]
    with db.begin() as conn:
        for start in range(0, len(values), _ROWS):
            upsert(conn, text_tokens, values[start:start + _ROWS], ("tokenizer", "text_hash"))
    return len(values)
