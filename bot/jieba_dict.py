"""jieba's prefix dictionary, loaded one first character at a time.

`jieba.Tokenizer.initialize()` unmarshals all of its ~500,000 words and prefixes, a third of a
second at the start of every process, although a question touches a few dozen of them. Here the
same words are kept in a cache file split by first character; `load_into(tokenizer)` reads the
file's index and hands jieba a mapping that unmarshals one character's words the first time a
text needs them. The words and frequencies are jieba's own, so segmentation is unchanged
(tests/test_text_jieba_dict.py compares every cut with a plainly initialised tokenizer).

jieba reads its dictionary only through `FREQ` (`in`, `[]`, `get`, and `[]=` in `add_word`) and
`total`; the cache lives beside jieba's own in the temporary folder and is rebuilt when missing.
"""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from collections import defaultdict

import jieba

_FILE = f"archive-bot-jieba-{jieba.__version__}-by-first-char.cache"


class PrefixDict:
    """Word -> frequency (0 for a prefix that is no word), one first character loaded at a time."""

    def __init__(self, shards: dict[str, bytes]):
        self._shards = shards
        self._loaded: dict[str, dict[str, int]] = {}

    def _shard(self, first: str) -> dict[str, int]:
        found = self._loaded.get(first)
        if found is None:
            blob = self._shards.get(first)
            found = self._loaded.setdefault(first, marshal.loads(blob) if blob else {})
        return found

    def __contains__(self, word: str) -> bool:
        return bool(word) and word in self._shard(word[0])

    def __getitem__(self, word: str) -> int:
        if not word:
            raise KeyError(word)
        return self._shard(word[0])[word]

    def get(self, word: str, default: int | None = None) -> int | None:
        return self._shard(word[0]).get(word, default) if word else default

    def __setitem__(self, word: str, freq: int) -> None:
        self._shard(word[0])[word] = freq


def _build(path: str) -> tuple[dict[str, bytes], int]:
    full = jieba.Tokenizer()
    full.initialize()
    by_first: dict[str, dict[str, int]] = defaultdict(dict)
    for word, freq in full.FREQ.items():
        if word:
            by_first[word[0]][word] = freq
    shards = {first: marshal.dumps(words) for first, words in by_first.items()}
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as out:
            marshal.dump((shards, full.total), out)
        os.replace(temp, path)
    except OSError:
        logging.getLogger(__name__).warning("could not write %s; jieba's dictionary is read whole next time", path)
        if os.path.exists(temp):
            os.unlink(temp)
    return shards, full.total


def load_into(tokenizer: jieba.Tokenizer, folder: str | None = None) -> None:
    """Give a fresh tokenizer jieba's default dictionary without reading all of it now."""
    path = os.path.join(folder or tempfile.gettempdir(), _FILE)
    try:
        with open(path, "rb") as cache:
            shards, total = marshal.load(cache)
    except (OSError, EOFError, ValueError, TypeError):
        shards, total = _build(path)
    tokenizer.FREQ, tokenizer.total = PrefixDict(shards), total
    tokenizer.initialized = True
