"""Q&A mining over an invented day that has each pattern the miner must recognise."""

import datetime as dt

import pytest

from bot.archive import Message, read_day
from bot.archive.model import MessageKind
from bot.qa.mining import is_greeting, is_question, mine_day
from tests.conftest import DATA

DAY = DATA / "qa" / "2030-01-15-chat.markdown"


@pytest.fixture(scope="module")
def day():
    return read_day(DAY)


@pytest.fixture(scope="module")
def pairs(day):
    return {p.question_seqs[0]: p for p in mine_day(day)}


def _msg(text, kind=MessageKind.TEXT):
    return Message(time=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), speaker="x", text=text, kind=kind)


def test_question_forms():
    assert is_question(_msg("请问备付金汇缴户是每天清零吗"))
    assert is_question(_msg("二类户可以绑定几张银行卡？"))
    assert is_question(_msg("有没有人用过开源的消息队列"))
    assert not is_question(_msg("我们用的是自研的调度"))


def test_greetings_images_and_emoji_are_not_questions():
    assert is_greeting("大家早上好") and is_greeting("谢谢！") and is_greeting("[强]")
    assert not is_question(_msg("大家早上好？"))
    assert not is_question(_msg("[捂脸]？", MessageKind.EMOJI))
    assert not is_question(_msg("![](http://example.invalid/a.jpg)", MessageKind.IMAGE))
    assert not is_question(_msg("@某人?好吗"))  # too short once the mention is gone


def test_question_with_answers_from_others_and_asker_continuation(day, pairs):
    pair = pairs[3]
    assert pair.question_seqs == (3, 4)  # "哪位大神讲一下，" is merged into the question
    assert "哪位大神讲一下" in pair.question_text
    assert [m.speaker for m in pair.answers][:2] == ["阿青-示例支付-技术-上海", "老周-样例银行-架构-北京"]
    times = [m.time for m in pair.answers]
    assert times == sorted(times)
    assert pair.first.time.strftime("%H:%M:%S") == "09:00:00"


def test_pair_ends_when_the_topic_moves_on(pairs):
    assert max(pairs[3].answer_seqs) < 8  # the unrelated question at 09:05 and its answer are not part of it
    assert pairs[8].answer_seqs == (9,)


def test_at_reply_to_the_asker_is_linked_after_a_pause(pairs):
    pair = pairs[10]
    assert pair.answer_seqs == (11,)
    assert pair.answers[0].mentions == ("老周-样例银行-架构-北京",)


def test_unanswered_questions_and_chit_chat_make_no_pairs(pairs):
    assert set(pairs) == {3, 8, 10}  # 11:00 got only an emoji and laughter


def test_mining_is_deterministic(day):
    assert [p.question_seqs for p in mine_day(day)] == [p.question_seqs for p in mine_day(day)]


# ----- repairs and retrieval units, over a second invented day (tests/data/qa/2030-01-16) -----

from bot.qa.units import day_units, passages, reply_chains, windows  # noqa: E402

REPAIRS = DATA / "qa" / "2030-01-16-chat.markdown"


@pytest.fixture(scope="module")
def repairs():
    return read_day(REPAIRS)


def _by_question(units):
    return {u.question_seqs[0]: u for u in units}


def test_a_talk_and_a_quote_reply_are_not_questions(repairs):
    mined = _by_question(mine_day(repairs))
    assert is_question(repairs.messages[0]) and 0 not in mined  # a talk with a rhetorical question in it
    assert is_question(repairs.messages[1]) and 1 not in mined  # a quote-reply that asks about the talk


def test_answers_of_a_parallel_thread_are_not_attached(repairs):
    mined = _by_question(mine_day(repairs))
    assert 5 in mined[3].answer_seqs and 6 not in mined[3].answer_seqs  # refunds, not insurers and 网联
    assert mined[4].answer_seqs == (6,)  # the insurer's question gets only its own answer


def test_an_answer_is_not_mined_again_as_the_next_question(repairs):
    mined = _by_question(mine_day(repairs))
    assert 7 in mined[3].answer_seqs  # the asker's follow-up belongs to the refund exchange
    assert 7 not in mined


def test_a_question_leaning_on_the_talk_before_carries_it(repairs):
    pair = _by_question(mine_day(repairs))[10]
    assert [m.time.strftime("%H:%M:%S") for m in pair.context] == ["11:00:00"]
    assert "二清" in pair.context_text and pair.stands_alone
    assert pair.covers()[0] == ("qa", "2030-01-16", "11:00:00", "大鹏-蓝鲸银行-架构-广州")
    assert [c[2] for c in pair.covers()] == ["11:00:00", "11:01:00", "11:02:00"]


def test_a_leaning_question_without_context_does_not_stand_alone(repairs):
    lone = mine_day(read_day(DAY))[0]
    assert lone.stands_alone
    leaning = lone.__class__(**{**{f: getattr(lone, f) for f in lone.__slots__}, "question": (
        lone.question[0].__class__(time=lone.first.time, speaker=lone.asker, text="那这个怎么算？"),)})
    assert not leaning.stands_alone


def test_talk_passages_are_readable_pieces_of_the_long_message(repairs):
    pieces = passages(repairs)
    assert pieces and all(p.kind == "passage" and p.question_seqs == (0,) for p in pieces)
    assert all(len(p.excerpt) <= 2 * 220 for p in pieces)
    assert "".join(p.excerpt for p in pieces).replace("\n", "") == repairs.messages[0].text.replace("\n", "")


def test_reply_chains_follow_quotes_and_at_replies(repairs):
    chains = _by_question(reply_chains(repairs))
    assert chains[0].answer_seqs == (1, 2)  # the quote-reply, then the @-reply to it
    asked = chains[1]  # the quote-reply asks again: a chain of its own, the quoted talk as context
    assert asked.question_text == "垫资的授信一般是多少额度？" and asked.answer_seqs == (2,)
    assert [m.time.strftime("%H:%M") for m in asked.context] == ["09:00"]


def test_windows_cover_the_conversation_and_every_unit_has_an_anchor(repairs):
    spans = [w.question_seqs + w.answer_seqs for w in windows(repairs)]
    assert (3, 5, 7, 8) in spans  # the refund talk, without the parallel insurer thread
    assert not any(4 in span for span in spans)  # two lines only: too short for a window
    kinds = {u.kind for u in day_units(repairs, mine_day(repairs))}
    assert kinds == {"exchange", "chain", "passage", "window"}
    for unit in day_units(repairs, mine_day(repairs)):
        assert unit.first in unit.messages() and unit.covers()


def test_field_synonyms_are_matched_as_one_term():
    from bot.text import segmenter

    words = segmenter().words("网络支付清算平台上线后，Ⅱ类账户和二类户一样吗？")
    assert words.count("二类户") == 2 and "网联" in words
