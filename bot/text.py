"""Chinese text normalisation and word segmentation for matching and search.

Matching compares what people mean, not how they typed it: full-width and half-width forms,
letter case, emoji codes like `[强]`, @mentions and punctuation all vary between two people asking
the same thing, so `normalise` removes them. `Segmenter` splits the result into jieba words,
with a domain dictionary so payments terms (备付金, 断直连, ...) stay whole, matches the field's
synonyms as one term (网络支付清算平台 = 网联, Ⅱ类户 = 二类户), and drops function words that say
nothing about the topic.

jieba's dictionary takes about a second to load, so `segmenter()` keeps one per set of extra
terms (an `lru_cache`, not a mutable global). jieba logs to stderr while loading; it is silenced.
Nothing here touches the network.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import sys
import unicodedata
from collections.abc import Iterable
from importlib import resources
from pathlib import Path


def _import_jieba():
    """jieba, imported without the deprecated `pkg_resources` (a fifth of a second at every start),
    which it tries only to open its own data files; without it, it opens them by path."""
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # makes `import pkg_resources` raise ImportError
    try:
        import jieba
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

from bot.archive.reader import EMOJI_CODE, MENTION  # noqa: E402 - the export's conventions
from bot.jieba_dict import load_into  # noqa: E402 - after jieba, which it uses

# Emoji codes of the export plus the emoji characters themselves: noise for matching questions.
EMOJI = re.compile(f"{EMOJI_CODE.pattern}|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
URL = re.compile(r"https?://\S+|www\.\S+")
# Anything that is not a letter, digit or CJK ideograph separates words.
NON_WORD = re.compile(r"[^\w\u4e00-\u9fff]+|_+")
SPACES = re.compile(r"\s+")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Keep tokens like "T+1" whole: `normalise` would split them, so it protects a few forms.
_KEEP = re.compile(r"(?<![a-z])([td])\+(\d)(?!\d)")


def strip_noise(text: str) -> str:
    """Text without emoji codes, @mentions and links, otherwise as typed."""
    text = MENTION.sub(" ", text)
    text = EMOJI.sub(" ", text)
    return URL.sub(" ", text)


def normalise(text: str) -> str:
    """Matching form: NFKC, case-folded, no emoji/@mentions/links/punctuation, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = strip_noise(text).casefold()
    text = _KEEP.sub(r"\1plus\2", text)
    text = NON_WORD.sub(" ", text)
    return SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """The normalised text without spaces: what character-level fuzzy scores compare."""
    return normalise(text).replace(" ", "")


def _data_lines(name: str) -> list[str]:
    raw = resources.files("bot").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")]


def domain_terms() -> list[tuple[str, int]]:
    """(term, frequency) from the shipped payments dictionary."""
    terms = []
    for line in _data_lines("payments_terms.txt"):
        parts = line.split()
        terms.append((parts[0], int(parts[1]) if len(parts) > 1 else 1000))
    return terms


def synonyms() -> dict[str, str]:
    """Each way of writing a field term (bot/data/synonyms.txt) -> the one it is matched as."""
    table: dict[str, str] = {}
    for line in _data_lines("synonyms.txt"):
        terms = [normalise(t).replace(" ", "") for t in line.split()]
        for term in terms[1:]:
            table.setdefault(term, terms[0])
    return table


class Segmenter:
    """jieba words of normalised text, with the domain dictionary loaded and stopwords dropped.

    Thread-safe for concurrent `words` calls once built: cutting only reads the dictionary.
    """

    def __init__(self, extra_terms: Iterable[str] = ()):
        extra_terms = tuple(extra_terms)
        self.version = segmenter_version(extra_terms)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        load_into(self._jieba)  # the dictionary is read a first character at a time, as texts need it
        for term, freq in domain_terms():
            self._add(term, freq)
        for term in extra_terms:
            if term.strip():
                self._add(term.strip(), 1000)
        self.synonyms = synonyms()
        for term in self.synonyms:
            self._add(term, 1500)
        self.stopwords = frozenset(normalise(word) for word in _data_lines("stopwords.txt"))

    def _add(self, term: str, freq: int) -> None:
        word = normalise(term).replace(" ", "")
        if word:
            self._jieba.add_word(word, freq)

    def cut(self, normalised: str) -> list[str]:
        """Every jieba word of already-normalised text, stopwords kept."""
        words: list[str] = []
        for chunk in normalised.split(" "):
            if not chunk:
                continue
            if not CJK.search(chunk):
                words.append(chunk)  # latin words and numbers are already whole
            else:
                words.extend(w for w in self._jieba.cut(chunk, HMM=True) if w.strip())
        return words

    def words(self, text: str, normalised: bool = False) -> list[str]:
        """Content words of the text: segmented, stopwords and lone punctuation removed."""
        norm = text if normalised else normalise(text)
        same = self.synonyms
        return [same.get(w, w) for w in self.cut(norm) if w not in self.stopwords]

    def segmented(self, text: str, normalised: bool = False) -> str:
        """Content words joined by spaces: the form rapidfuzz's token_* scorers need."""
        return " ".join(self.words(text, normalised))


def segmenter_version(extra_terms: Iterable[str] = ()) -> str:
    """An id of what decides the words of a text: jieba, this module's code, the word lists and the
    extra terms. Stored tokens (bot/store/tokens.py) are keyed by it, so any change re-segments."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(jieba.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    data = resources.files("bot").joinpath("data")
    for name in sorted(p.name for p in data.iterdir() if p.name.endswith(".txt")):
        digest.update(name.encode() + b"\0" + data.joinpath(name).read_bytes())
    digest.update("\0".join(extra_terms).encode("utf-8", "surrogatepass"))
    return f"jieba-{jieba.__version__}-{digest.hexdigest()}"


@functools.lru_cache(maxsize=4)
def segmenter(extra_terms: tuple[str, ...] = ()) -> Segmenter:
    """A shared, fully loaded segmenter for these extra terms (loading jieba is slow)."""
    return Segmenter(extra_terms)
