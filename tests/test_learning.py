"""What a chat's feedback does to the engine's verdict (bot/learning.py), on a real engine over an
invented day: blocked for the question and its paraphrases when unprompted, demoted for similar
questions, raised when marked right, hidden everywhere."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive.model import Day, Message
from bot.config import AnswerSection, FeedbackSection
from bot.learning import Lessons, apply, similarity, unit_key
from bot.qa.engine import AnswerEngine
from bot.store.answers import Verdict
from tests.jobs_support import ZONE

QUESTION = "请问网联的备付金集中存管比例现在是多少？"
PARAPHRASE = "网联现在备付金集中存管的比例是多少呢？"
SIMILAR = "网联的备付金集中存管是什么时候开始的？"  # same subject, another question
CONFIG = FeedbackSection()


@pytest.fixture(scope="module")
def asked():
    t = lambda h, m: dt.datetime(2024, 1, 1, h, m, tzinfo=ZONE)  # noqa: E731
    day = Day("g", dt.date(2024, 1, 1), "t", "a", messages=[
        Message(t(9, 0), "甲-某支付-产品-北京", QUESTION),
        Message(t(9, 2), "乙-某银行-架构-上海", "现在是百分之百集中存管了，全部交存到人民银行。"),
        Message(t(9, 3), "甲-某支付-产品-北京", "好的，谢谢"),
    ])
    from tests.conftest import PATH_OPEN_ANSWER

    engine = AnswerEngine.from_days([day], AnswerSection(**PATH_OPEN_ANSWER))
    return {q: engine.ask(q, "g") for q in (QUESTION, PARAPHRASE, SIMILAR)}


def lessons(result, verdict: int, question: str = QUESTION, hidden: bool = False) -> Lessons:
    unit = unit_key(result.candidates[0].pair)
    return Lessons([Verdict(unit, question, verdict)], [], frozenset({unit}) if hidden else frozenset())


def run(result, question, taught, prompted=False):
    return apply(result, question, taught, CONFIG, 0.7, 0.35, prompted=prompted)


def test_similarity_tells_paraphrases_from_other_questions():
    assert similarity(QUESTION, PARAPHRASE) >= CONFIG.paraphrase_similarity
    assert CONFIG.similar_similarity <= similarity(QUESTION, SIMILAR) < CONFIG.paraphrase_similarity
    assert similarity(QUESTION, "周末有人一起去爬山吗？") < CONFIG.similar_similarity


def test_wrong_blocks_the_question_and_paraphrase_unprompted_but_only_demotes_when_asked(asked):
    for question in (QUESTION, PARAPHRASE):
        result = asked[question]
        assert result.answered
        taught = lessons(result, -1)
        assert not run(result, question, taught).answered and not run(result, question, taught).candidates
        demoted = run(result, question, taught, prompted=True)
        assert demoted.candidates[0].score == pytest.approx(result.candidates[0].score * CONFIG.wrong_factor)


def test_wrong_demotes_and_right_raises_for_similar_questions(asked):
    result = asked[SIMILAR]
    score = result.candidates[0].score
    assert run(result, SIMILAR, lessons(result, -1)).candidates[0].score == pytest.approx(score * CONFIG.wrong_factor)
    assert run(result, SIMILAR, lessons(result, +1)).candidates[0].score == pytest.approx(min(1.0, score + CONFIG.right_bonus))
    unrelated = run(result, SIMILAR, lessons(result, -1, question="周末有人一起去爬山吗？"))
    assert unrelated.candidates[0].score == pytest.approx(score)  # feedback on another subject: no effect


def test_hidden_units_are_dropped_even_when_asked(asked):
    result = asked[QUESTION]
    assert not run(result, QUESTION, lessons(result, +1, hidden=True), prompted=True).candidates
