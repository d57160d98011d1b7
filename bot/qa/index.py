"""BM25 retrieval over the distinct texts of many items (Q&A pairs or messages).

A chat archive repeats itself: greetings, "+1", the same question asked again, and (in the
benchmark) whole copied days. Items whose normalised text is identical share one BM25 document,
so the index grows with the number of distinct texts, not with the number of messages; each
document remembers its items (compact numpy arrays) so a real item is returned for a hit.
An index is immutable once built, so any number of threads can query it at the same time.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Sequence

import numpy as np

from bot.store.vectors import text_hash
from bot.text import Segmenter, normalise


class TextCache:
    """Content words of each raw text seen, kept across rebuilds and, with a store, across restarts.

    Segmenting is the slow part of building an index; a rebuild after one day changed only
    segments that day's new texts, and `attach(db)` loads the words stored by earlier runs
    (bot/store/tokens.py), so a start segments nothing it has seen before. `save()` stores what
    was segmented since. Texts whose normalised forms are equal share one document key.
    Only the rebuilding thread uses it.
    """

    def __init__(self, segmenter: Segmenter):
        self.segmenter = segmenter
        self.tokenizer: str = getattr(segmenter, "version", "")
        self._entries: dict[str, tuple[str, tuple[str, ...]]] = {}  # raw text -> (document key, words)
        self._by_key: dict[str, tuple[str, ...]] = {}  # document key -> words (one tuple per key)
        self._stored: dict[str, tuple[str, str]] = {}  # raw text hash -> (key, joined words), not yet used
        self._fresh: list[tuple[str, str, tuple[str, ...]]] = []  # segmented here, not yet saved
        self._db = None
        self.segmented = 0  # texts this cache ran the segmenter on

    def attach(self, db) -> None:
        """Use the store: load the words it holds for this segmenter version, save new ones there."""
        from bot.store.tokens import load_tokens

        self._db = db
        if self.tokenizer:
            self._stored = load_tokens(db, self.tokenizer)

    def save(self) -> int:
        """Store the words segmented since the last save (nothing without a store); how many.

        A store that cannot be written (read-only, full) costs the next start time, not this answer:
        it is logged and the words are kept in memory only."""
        if self._db is None or not self.tokenizer or not self._fresh:
            return 0
        from sqlalchemy.exc import SQLAlchemyError

        from bot.store.tokens import save_tokens

        fresh, self._fresh = self._fresh, []
        try:
            return save_tokens(self._db, self.tokenizer, fresh)
        except SQLAlchemyError as exc:
            logging.getLogger(__name__).warning("could not keep %d texts' words in the store: %s",
                                                len(fresh), type(exc).__name__)
            return 0

    def entry(self, raw: str) -> tuple[str, tuple[str, ...]]:
        """(document key, content words) of a raw text."""
        found = self._entries.get(raw)
        if found is None:
            key = text_hash(raw)
            stored = self._stored.pop(key, None)
            if stored is not None:
                doc, joined = stored
                words = self._by_key.get(doc)
                if words is None:
                    words = self._by_key[doc] = tuple(sys.intern(w) for w in joined.split(" ") if w)
            else:
                norm = normalise(raw)
                doc = text_hash(norm)
                words = self._by_key.get(doc)
                if words is None:
                    # Interned: the same word from a million messages is one string object, not a million.
                    words = tuple(sys.intern(w) for w in self.segmenter.words(norm, normalised=True))
                    self._by_key[doc] = words
                    self.segmented += 1
                self._fresh.append((key, doc, words))
            found = self._entries[raw] = (doc, words)
        return found


class Doc:
    """One distinct text's content words, and the two joined forms the scorers compare.

    Only the words are kept (shared with the cache); the joined forms are made when a document
    is scored, which is a few dozen per query, so a big archive does not hold three copies.
    """

    __slots__ = ("words",)

    def __init__(self, words: tuple[str, ...]):
        self.words = words

    @property
    def segmented(self) -> str:  # words joined by spaces, for rapidfuzz's token_* scorers
        return " ".join(self.words)

    @property
    def content(self) -> str:  # words joined without spaces, for character-level scorers
        return "".join(self.words)


K1, B = 1.5, 0.75  # BM25 parameters (Lucene's, and bm25s's defaults)


def bm25_postings(ids: np.ndarray, lengths: np.ndarray, vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BM25 (Lucene variant) weights of every (word, document), grouped by word: (weights, docs, starts),
    the postings of word t being weights/docs[starts[t]:starts[t + 1]].

    `ids` holds the word ids of every document one after another, `lengths` each document's count.
    One numpy pass instead of a Python loop per document: building the index of a whole archive
    at start-up takes milliseconds. The weights equal bm25s's `BM25(method="lucene")`.
    """
    n_docs = len(lengths)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    keys, tf = np.unique(ids * max(n_docs, 1) + doc_of, return_counts=True)  # sorted by word, then document
    words, docs = np.divmod(keys, max(n_docs, 1))
    df = np.bincount(words, minlength=vocab_size)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * lengths / max(lengths.mean(), 1e-9)) if n_docs else lengths
    weights = (idf[words] * tf / (tf + norm[docs])).astype(np.float32)
    starts = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(df, out=starts[1:])
    return weights, docs.astype(np.int32), starts


def bm25_scores(postings: tuple[np.ndarray, np.ndarray, np.ndarray], ids: Sequence[int], n_docs: int,
                mask: np.ndarray | None = None) -> np.ndarray:
    """BM25 score of every document for the query's distinct word ids; 0 outside `mask` when given."""
    weights, docs, starts = postings
    if ids:
        with_word = np.concatenate([docs[starts[t]:starts[t + 1]] for t in ids])
        weight = np.concatenate([weights[starts[t]:starts[t + 1]] for t in ids])
    else:
        with_word, weight = np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
    scores = np.bincount(with_word, weights=weight, minlength=n_docs).astype(np.float32)
    if mask is not None:
        scores[~mask] = 0
    return scores


class TextIndex:
    """BM25 over distinct normalised texts; items map to documents many-to-one."""

    def __init__(self, texts: Sequence[str], item_groups: np.ndarray, cache: TextCache, subwords: bool = False):
        """`subwords` also indexes the character pairs of longer words, so a search for part of a
        word ("汇缴" in "汇缴户") still finds it."""
        self.subwords = subwords
        doc_of: dict[str, int] = {}
        docs: list[Doc] = []
        item_doc = np.empty(len(texts), dtype=np.int32)
        for i, raw in enumerate(texts):
            key, words = cache.entry(raw)
            d = doc_of.get(key)
            if d is None:
                d = doc_of[key] = len(docs)
                docs.append(Doc(words))
            item_doc[i] = d
        self.docs = docs
        self.item_doc = item_doc
        self.item_groups = item_groups
        # Items of document d are order[starts[d]:starts[d + 1]], oldest first.
        self.order = np.argsort(item_doc, kind="stable").astype(np.int32)
        self.starts = np.searchsorted(item_doc[self.order], np.arange(len(docs) + 1)).astype(np.int64)
        self._group_masks = {}
        for g in np.unique(item_groups):
            mask = np.zeros(len(docs), dtype=bool)
            mask[item_doc[item_groups == g]] = True
            self._group_masks[int(g)] = mask
        self.vocab: dict[str, int] = {}
        setdefault = self.vocab.setdefault
        rows = [self.tokens(doc.words) for doc in docs]
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        ids = np.fromiter((setdefault(w, len(self.vocab)) for r in rows for w in r), dtype=np.int64,
                          count=int(lengths.sum()))
        self._postings = bm25_postings(ids, lengths, len(self.vocab))
        df = np.zeros(len(self.vocab) + 1, dtype=np.float64)
        df[:len(self.vocab)] = np.diff(self._postings[2])
        n = max(len(docs), 1)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5))
        self.max_idf = math.log1p((n + 0.5) / 0.5)  # a word no document has

    def tokens(self, words: Sequence[str]) -> list[str]:
        """What BM25 indexes for these words: the words, plus their character pairs with `subwords`."""
        if not self.subwords:
            return list(words)
        out = list(words)
        for w in words:
            if len(w) >= 3 and not w.isascii():
                out.extend(w[i:i + 2] for i in range(len(w) - 1))
        return out

    def __len__(self) -> int:
        return len(self.item_doc)

    def word_idf(self, word: str) -> float:
        t = self.vocab.get(word)
        return self.max_idf if t is None else float(self.idf[t])

    def holding(self, word: str, docs: np.ndarray) -> np.ndarray:
        """Which of these documents hold the word (as BM25 indexes them), one boolean each: read from
        the word's postings, so no document's words are gone through."""
        t = self.vocab.get(word)
        if t is None:
            return np.zeros(len(docs), dtype=bool)
        _, with_word, starts = self._postings
        found = with_word[starts[t]:starts[t + 1]]  # ascending, never empty
        at = np.minimum(np.searchsorted(found, docs), len(found) - 1)
        return found[at] == docs

    def top(self, words: Sequence[str], k: int, group: int | None = None,
            item_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best documents for the words (ids, BM25 scores), best first; group (or a mask
        over the items) limits the items."""
        if not self.docs:
            return np.empty(0, dtype=np.int64), np.empty(0)
        ids = [self.vocab[w] for w in dict.fromkeys(self.tokens(words)) if w in self.vocab]
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty(0)
        mask = None
        if item_mask is not None:
            mask = np.zeros(len(self.docs), dtype=bool)
            mask[self.item_doc[item_mask]] = True
        elif group is not None:
            mask = self._group_masks.get(group)
            if mask is None:
                return np.empty(0, dtype=np.int64), np.empty(0)
        scores = bm25_scores(self._postings, ids, len(self.docs), mask)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[scores[best] > 0]
        best = best[np.argsort(-scores[best], kind="stable")]
        return best, scores[best]

    def latest(self, docs: np.ndarray, item_mask: np.ndarray | None = None) -> np.ndarray:
        """The latest item of each document (within the item mask when given), -1 where it has none:
        what `items(doc, item_mask=...)[-1]` gives, for many documents at once."""
        first, pos = self.starts[docs], self.starts[docs + 1] - 1
        out = np.full(len(docs), -1, dtype=np.int64)
        pending = np.arange(len(docs))
        while len(pending):  # step back from each document's latest item until one is in the mask
            pending = pending[pos[pending] >= first[pending]]
            items = self.order[pos[pending]]
            kept = item_mask[items] if item_mask is not None else np.ones(len(items), dtype=bool)
            out[pending[kept]] = items[kept]
            pending = pending[~kept]
            pos[pending] -= 1
        return out

    def items(self, doc: int, group: int | None = None, item_mask: np.ndarray | None = None) -> np.ndarray:
        """Item numbers of a document (oldest first), limited to a group (or an item mask) when given."""
        items = self.order[self.starts[doc]:self.starts[doc + 1]]
        if item_mask is not None:
            return items[item_mask[items]]
        if group is not None:
            items = items[self.item_groups[items] == group]
        return items
