"""The answer engine over the bundled sample day: answers, silence, thresholds, search, CLI."""

import io
import json
import threading

import pytest

from bot.archive import read_day
from bot.cli import main
from bot.config import AnswerSection
from bot.qa.engine import AnswerEngine
from tests.conftest import DATA, PATH_OPEN_ANSWER, SAMPLE_DAY, path_open_config

PARAPHRASE = "为什么说财付通是发卡行，体现在哪些业务上？"


PATH_OPEN = AnswerSection(**PATH_OPEN_ANSWER)  # see tests/conftest.py
# The shipped ranker is never sure enough to answer unprompted (its answer threshold is 0.99), so
# these tests open the answer path on the sample day between its paraphrase (0.16 with the shipped
# lexical model) and the chit-chat and unrelated questions (at most 0.094). Refitting the ranker
# moves these figures: re-measure them then.
SAMPLE_OPEN = AnswerSection(answer_threshold=0.13, suggest_threshold=0.1)


@pytest.fixture(scope="module")
def engine():
    return AnswerEngine.from_days([read_day(SAMPLE_DAY)], SAMPLE_OPEN)


def test_answers_a_paraphrase_with_the_archived_exchange(engine):
    result = engine.ask(PARAPHRASE)
    assert result.answered and result.confidence >= engine.answer_threshold
    pair = result.match.pair
    assert (pair.group, pair.date.isoformat(), pair.first.time.strftime("%H:%M:%S")) == ("prodarch", "2018-02-28", "08:59:56")
    assert "发卡行" in pair.question_text
    assert [m.time for m in pair.answers] == sorted(m.time for m in pair.answers)
    assert result.candidates[0] == result.match


@pytest.mark.parametrize("chat", ["早上好", "谢谢大家", "[强][强]", "哈哈哈", "北京哪家火锅好吃？", "周末去爬山的有吗？", ""])
def test_stays_silent_on_chit_chat_and_unknown_topics(engine, chat):
    result = engine.ask(chat)
    assert not result.answered and result.match is None
    assert result.confidence < engine.answer_threshold


def test_thresholds_decide_between_answer_suggest_and_silence():
    day = read_day(SAMPLE_DAY)
    strict = AnswerEngine.from_days([day], AnswerSection(answer_threshold=1.0, suggest_threshold=0.02))
    result = strict.ask(PARAPHRASE)
    assert not result.answered and result.suggest and result.related
    assert result.related[0].pair.first.time.strftime("%H:%M:%S") == "08:59:56"
    deaf = AnswerEngine.from_days([day], AnswerSection(answer_threshold=1.0, suggest_threshold=1.0))
    result = deaf.ask(PARAPHRASE)
    assert not result.answered and not result.suggest


def test_group_filter(engine):
    assert engine.ask(PARAPHRASE, group="prodarch").answered
    assert not engine.ask(PARAPHRASE, group="nosuchgroup").candidates


def test_search_ranks_messages_and_prefers_exact_phrases(engine):
    hits = engine.search("产品账", limit=5)
    assert hits and all("产品" in h.message.text for h in hits[:3])
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert engine.search("产品账", limit=2)[:2] == hits[:2]
    assert engine.search("完全不存在的词汇组合喵") == []


def test_update_and_remove_days_refresh_the_index(engine):
    extra = read_day(DATA / "qa" / "2030-01-15-chat.markdown")
    local = AnswerEngine.from_days([read_day(SAMPLE_DAY)], SAMPLE_OPEN)
    question = "备付金汇缴户每天日终要清零吗？"
    assert not local.ask(question).answered
    local.update_days([extra])
    found = local.ask(question)
    assert found.answered and found.match.pair.group == "qa"
    local.remove_days([("qa", extra.date)])
    assert not local.ask(question).answered


def test_ask_is_safe_while_the_index_is_rebuilt():
    day = read_day(SAMPLE_DAY)
    local = AnswerEngine.from_days([day], PATH_OPEN)
    extra = read_day(DATA / "qa" / "2030-01-15-chat.markdown")
    errors, results = [], []

    def reader():
        try:
            for _ in range(30):
                results.append(local.ask(PARAPHRASE).answered)
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(3):
        local.update_days([extra])
        local.remove_days([("qa", extra.date)])
    for t in threads:
        t.join()
    assert not errors and all(results) and len(results) == 90


PAIR_KEYS = {"kind", "group", "date", "time", "speaker", "question", "answers", "score"}


def test_cli_ask_json_shape(capsys, tmp_path):
    assert main(["--config", path_open_config(tmp_path), "ask", PARAPHRASE, "--archive", str(SAMPLE_DAY.parent), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"answered", "confidence", "match", "candidates"}
    assert out["answered"] is True and 0 <= out["confidence"] <= 1
    assert set(out["match"]) == PAIR_KEYS
    assert (out["match"]["group"], out["match"]["date"], out["match"]["time"]) == ("prodarch", "2018-02-28", "08:59:56")
    assert out["match"]["answers"] and set(out["match"]["answers"][0]) == {"time", "speaker", "text"}
    assert 1 <= len(out["candidates"]) <= 5 and out["candidates"][0] == out["match"]


def test_cli_ask_json_lines_from_stdin(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"早上好\n{PARAPHRASE}\n\n"))
    assert main(["--config", path_open_config(tmp_path), "ask", "-", "--archive", str(SAMPLE_DAY.parent), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["answered"] for line in lines] == [False, True]
    assert lines[0]["match"] is None


def test_cli_search_json(capsys, tmp_path):
    assert main(["--config", path_open_config(tmp_path), "search", "发卡行", "--archive", str(SAMPLE_DAY.parent), "--limit", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert 1 <= len(hits) <= 3
    assert set(hits[0]) == {"group", "date", "time", "speaker", "text", "score"}
    assert "发卡行" in hits[0]["text"]


def test_cli_nothing_found_points_at_the_search_command(capsys, tmp_path):
    assert main(["--config", path_open_config(tmp_path), "ask", "火星上的量子区块链怎么挖矿？", "--archive",
                 str(SAMPLE_DAY.parent)]) == 0
    out = capsys.readouterr().out
    assert "没有在群聊记录里找到" in out and "archive-bot search" in out


def test_cli_plain_text_and_bad_limit(capsys, tmp_path):
    assert main(["--config", path_open_config(tmp_path), "ask", PARAPHRASE, "--archive", str(SAMPLE_DAY.parent)]) == 0
    assert "2018-02-28" in capsys.readouterr().out
    assert main(["--config", path_open_config(tmp_path), "search", "发卡行", "--archive", str(SAMPLE_DAY.parent), "--limit", "0"]) == 2


def test_search_finds_part_of_a_word():
    local = AnswerEngine.from_days([read_day(DATA / "qa" / "2030-01-15-chat.markdown")], PATH_OPEN)
    assert "汇缴" not in local.segmenter.words("汇缴户日终要全额划转")  # the dictionary keeps 汇缴户 whole
    hits = local.search("汇缴")
    assert len(hits) == 2 and all("汇缴户" in h.message.text for h in hits)


def test_a_question_that_says_too_little_is_never_answered(tmp_path):
    """Vague follow-ups ("有推荐的吗") match equally vague archived lines with high scores; the
    engine must not answer them on its own, however close the wording."""
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "2020-03-02-chat.markdown").write_text(
        "---\nlayout: source\ntitle: \"2020-03-02-WeChat\"\ndate: 2020-03-02 12:00:00\nauthor: Tester\n---\n"
        "> 10:00:00  甲-某支付-产品-上海  \n   \n有推荐的吗？  \n   \n"
        "> 10:00:30  乙-某银行-开发-北京  \n   \n可以看看我们行的开放平台  \n   \n"
        "> 11:00:00  丙-某科技-架构-深圳  \n   \n备付金集中存管以后，支付机构还能开多个备付金账户吗？  \n   \n"
        "> 11:01:00  丁-某支付-财务-杭州  \n   \n不能了，只保留一个备付金集中存管账户  \n   \n",
        encoding="utf-8")
    engine = AnswerEngine.from_days([read_day(folder / "2020-03-02-chat.markdown")], PATH_OPEN)
    vague = engine.ask("有推荐的吗")
    assert not vague.answered and vague.match is None
    specific = engine.ask("集中存管之后支付机构可以开几个备付金账户？")
    assert specific.answered and "集中存管账户" in specific.match.pair.answers[0].text
