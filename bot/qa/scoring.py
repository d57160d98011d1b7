"""/search relevance, and the answer scoring the engine used before bot.qa.ranker.

BM25 finds candidates over the whole archive cheaply but its scores are not comparable between
queries. These scores look at each candidate the way a reader would: how much of the question's
meaning (IDF-weighted words, and character pairs, which survive a different segmentation) the
archived text contains, plus rapidfuzz's token-set and partial scores over segmented text.
`search_score` orders /search hits. `features`, `rank_score` and `confidence` are the old answer
engine's hand-set ranking and Platt-scaled confidence; bench/quality.py keeps them as the
"today" baseline that the ranker's figures are printed beside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.qa.index import Doc, TextIndex

FEATURES = ("cover_query", "cover_doc", "bigrams", "token_set", "partial", "query_info", "bm25_rank")
# Ranking: a linear score over all features, set by hand (coverage of the question matters most).
RANK_WEIGHTS = (6.0, 1.5, 3.0, 1.0, 1.0, 0.0, -0.5)
# Confidence: a logistic model of "the top-ranked exchange is right" over its features; its
# direction was set by hand, its scale and offset fitted on the old eval set's dev half.
CONF_WEIGHTS = (6.211, 0.0, 3.727, 0.0, 2.484, 4.969, 0.0)
CONF_BIAS = -9.583
MIN_SEARCH_COVER = 0.5  # share of the query's IDF mass a search hit must contain
LOGIT_CLAMP = 60.0  # exp() of a larger magnitude overflows nothing useful: the confidence is 0 or 1 by then
BREVITY_CHARS = 200.0  # a search hit this long counts half as brief as a one-liner
# /search relevance, set by hand and summing to 1: covering the query's words matters most, then the
# exact phrase, then a fuzzy partial match; shorter messages break ties.
SEARCH_WEIGHTS = (0.45, 0.25, 0.2, 0.1)
INFO_FULL = 3.5  # a query that says enough: IDF mass of three or four words no question uses


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared once for scoring against many candidates."""

    words: tuple[str, ...]
    segmented: str
    content: str
    bigrams: frozenset[str]


def bigrams(content: str) -> frozenset[str]:
    return frozenset(content[i:i + 2] for i in range(len(content) - 1)) or frozenset([content])


def prepare(words: tuple[str, ...]) -> Query:
    content = "".join(words)
    return Query(words, " ".join(words), content, bigrams(content))


def features(query: Query, doc: Doc, index: TextIndex, rank: int) -> tuple[float, ...]:
    """The re-rank features of one candidate (see FEATURES), each in [0, 1] except the rank's log."""
    q_words = set(query.words)
    d_words = set(doc.words)
    shared = q_words & d_words
    idf = index.word_idf
    q_mass = math.fsum(idf(w) for w in q_words) or 1.0
    d_mass = math.fsum(idf(w) for w in d_words) or 1.0
    shared_mass = math.fsum(idf(w) for w in shared)
    content = doc.content
    return (
        shared_mass / q_mass,
        shared_mass / d_mass,
        len(query.bigrams & bigrams(content)) / len(query.bigrams),
        fuzz.token_set_ratio(query.segmented, doc.segmented) / 100.0,
        fuzz.partial_ratio(query.content, content) / 100.0 if len(query.content) > 1 else 0.0,
        min(q_mass / index.max_idf, INFO_FULL) / INFO_FULL,  # "辛苦了" says too little to be matched confidently
        math.log1p(rank),
    )


def rank_score(values: tuple[float, ...], weights=RANK_WEIGHTS) -> float:
    return sum(w * x for w, x in zip(weights, values))


def confidence(values: tuple[float, ...], weights=CONF_WEIGHTS, bias=CONF_BIAS) -> float:
    """Probability-like confidence in [0, 1] that the candidate answers the question."""
    z = bias + sum(w * x for w, x in zip(weights, values))
    return 1.0 / (1.0 + math.exp(-max(-LOGIT_CLAMP, min(LOGIT_CLAMP, z))))


def search_score(query: Query, doc: Doc, index: TextIndex) -> float:
    """Relevance of a message for /search in [0, 1]: word coverage, with exact phrases first."""
    q_words = set(query.words)
    idf = index.word_idf
    q_mass = math.fsum(idf(w) for w in q_words) or 1.0
    cover = math.fsum(idf(w) for w in q_words & set(doc.words)) / q_mass
    content = doc.content
    exact = 1.0 if query.content and query.content in content else 0.0
    if cover < MIN_SEARCH_COVER and not exact:
        return 0.0  # shares only a minor word with the query: not a hit
    partial = fuzz.partial_ratio(query.content, content) / 100.0 if query.content else 0.0
    # Shorter messages are better snippets when coverage ties.
    brevity = 1.0 / (1.0 + len(content) / BREVITY_CHARS)
    cover_w, exact_w, partial_w, brevity_w = SEARCH_WEIGHTS
    return min(1.0, cover_w * cover + exact_w * exact + partial_w * partial + brevity_w * brevity)
