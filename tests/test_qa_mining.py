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
