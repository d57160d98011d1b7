"""Reply texts: quoted answers with speaker, date and link; related list; thread; search hits."""

import pytest

from bot.archive import read_day
from bot.qa.engine import AnswerEngine
from bot.qa.results import AskResult
from bot.qa.reply import (
    ANSWER_CHARS, NOTHING_FOUND, answer_text, best_answers, nothing_found_text, related_text, search_text, shorten, snippet,
    thread_text,
)
from bot.config import AnswerSection
from tests.conftest import DATA, PATH_OPEN_ANSWER

BASE = "https://bot.example.org"


@pytest.fixture(scope="module")
def engine():
    return AnswerEngine.from_days([read_day(DATA / "qa" / "2030-01-15-chat.markdown")], AnswerSection(**PATH_OPEN_ANSWER))


@pytest.fixture(scope="module")
def result(engine):
    found = engine.ask("备付金汇缴户每天日终要清零吗？")
    assert found.answered
    return found


def test_answer_quotes_the_best_answers_with_speaker_date_and_link(result):
    text = answer_text(result, BASE)
    assert "2030-01-15 09:00" in text
    assert "阿青-示例支付-技术-上海：是的，汇缴户日终要全额划转到备付金存管户" in text
    assert "明白了，谢谢" not in text  # the asker's thanks is not an answer
    assert f"{BASE}/archive/qa/2030-01-15#t-090000" in text
    assert "**" not in text and "](" not in text


def test_answer_without_base_url_has_no_link_and_markdown_is_light(result):
    assert "http" not in answer_text(result, "")
    md = answer_text(result, BASE, markdown=True)
    assert "*阿青-示例支付-技术-上海*：" in md and "**" not in md  # the adapters' subset: *bold*
    assert f"({BASE}/archive/qa/2030-01-15#t-090000)" in md


def test_answer_is_trimmed(result):
    pair = result.match.pair
    long_answer = pair.answers[0].__class__(time=pair.answers[0].time, speaker="某人", text="很长的回答" * 200)
    from dataclasses import replace

    long_pair = replace(pair, answers=(long_answer,))
    quoted = best_answers(long_pair)
    assert quoted == [long_answer]
    text = answer_text(replace(result.match, pair=long_pair))
    assert len(text) < ANSWER_CHARS + 200 and "…" in text


def test_related_lists_up_to_three_with_date_asker_and_link(engine):
    result = engine.ask("消息队列 对账 通知")
    related = AskResult(answered=False, confidence=0.5, match=None, candidates=result.candidates, suggest=True)
    text = related_text(related, BASE)
    lines = text.splitlines()
    assert lines[0] == "可能相关的讨论："
    assert 2 <= len(lines) <= 4
    assert "2030-01-15" in lines[1] and "大刘-演示科技-开发-深圳" in lines[1] and f"{BASE}/archive/qa/2030-01-15#t-090500" in lines[1]


def test_nothing_found(engine):
    silent = engine.ask("早上好")
    assert answer_text(silent) == NOTHING_FOUND
    assert related_text(silent) == NOTHING_FOUND
    assert nothing_found_text().startswith(NOTHING_FOUND) and "/search" in nothing_found_text()


def test_thread_text_has_the_whole_exchange(result):
    text = thread_text(result.match.pair, BASE)
    lines = text.splitlines()
    assert lines[0] == "qa 2030-01-15"
    assert lines[1].startswith("09:00:00 小白-测试-产品-杭州：请问备付金汇缴户")
    assert any(line.startswith("09:03:30 小白-测试-产品-杭州：明白了") for line in lines)
    assert lines[-1].startswith("原文: https://bot.example.org/archive/qa/")


def test_search_hits_show_date_speaker_and_snippet(engine):
    hits = engine.search("汇缴户")
    text = search_text(hits, "汇缴户", BASE)
    assert "2030-01-15" in text and "汇缴户" in text and "#t-" in text
    assert search_text([], "不存在") == "没有找到包含“不存在”的聊天记录。"


def test_snippet_centres_on_the_match():
    text = "前面的铺垫" * 20 + "关键的汇缴户说明" + "后面的补充" * 20
    cut = snippet(text, "汇缴户", width=30)
    assert "汇缴户" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 32
    assert shorten("一 二\n三", 10) == "一 二 三"


def test_quotes_skip_questions_and_stop_at_three_lines(result):
    from dataclasses import replace

    pair = result.match.pair
    base = pair.answers[0]
    asked = replace(base, speaker="某人", text="那二类户可以绑定几张卡？")
    many = tuple(replace(base, speaker=f"答者{i}", text=f"第{i}条回答的内容") for i in range(5))
    quoted = best_answers(replace(pair, answers=(asked, *many)))
    assert asked not in quoted and quoted == list(many[:3])
