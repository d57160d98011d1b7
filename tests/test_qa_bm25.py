"""The index's BM25 weights and scores are bm25s's (Lucene variant), built without its per-document loop."""

from __future__ import annotations

import random

import bm25s
import numpy as np

from bot.qa.index import bm25_postings, bm25_scores


def test_scores_equal_bm25s_lucene():
    rng = random.Random(7)
    docs = [[rng.randrange(60) for _ in range(rng.randrange(0, 15))] for _ in range(400)]
    docs[5] = [3, 3, 3, 3]  # repeated words: term frequency matters
    reference = bm25s.BM25(method="lucene")
    reference.index((docs, {str(i): i for i in range(60)}), show_progress=False)
    postings = bm25_postings(np.array([t for d in docs for t in d]), np.array([len(d) for d in docs]), 60)
    mask = np.array([i % 3 == 0 for i in range(len(docs))])
    for query in ([3], [1, 2, 3], [59, 0, 11, 12], []):
        assert np.allclose(bm25_scores(postings, query, len(docs)), reference.get_scores_from_ids(query), atol=1e-5)
        assert np.allclose(bm25_scores(postings, query, len(docs), mask),
                           reference.get_scores_from_ids(query, weight_mask=mask), atol=1e-5)


def test_empty_corpus_and_empty_documents():
    weights, docs, starts = bm25_postings(np.empty(0, dtype=np.int64), np.zeros(3, dtype=np.int64), 0)
    assert len(weights) == len(docs) == 0 and list(starts) == [0]
    assert list(bm25_scores((weights, docs, starts), [], 3)) == [0, 0, 0]
