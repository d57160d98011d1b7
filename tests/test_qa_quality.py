"""Answer quality: floors on the held-out TEST splits and the live set (never on dev, where the
ranker was fitted), and a small quality check over invented days that runs without the archive.

The floors sit a little under the figures measured with the lexical engine (the hybrid one needs the
whole archive encoded, minutes on this machine: bench/quality.py prints it); they are checked
against today's lexical engine and the naive baseline too.
"""

import importlib.util

import pytest

from bot.archive import read_day, read_folder
from bot.qa.engine import AnswerEngine
from bot.qa.reply import answer_text
from tests.conftest import DATA, ROOT, SAMPLE_DAY

QA_DAYS = [DATA / "qa" / "2030-01-15-chat.markdown", DATA / "qa" / "2030-01-16-chat.markdown"]


def _quality():
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small():
    return AnswerEngine.from_days([read_day(p) for p in QA_DAYS] + [read_day(SAMPLE_DAY)])


@pytest.mark.parametrize("question, group, time, places", [
    ("Ⅱ类账户最多可以绑定多少张银行卡？", "qa", "10:00:00", 1),  # 二类户 written as 账户 with a Roman numeral
    ("网络支付清算平台能让保险公司直接对接吗？", "qa", "10:00:30", 1),  # 网联 by its full name
    # asked in a quote-reply to a talk; the talk's own passage on 授信 comes first, the reply chain next
    ("垫资向银行申请的授信一般给多大额度？", "qa", "09:05:00", 2),
    ("原路退款的话，钱几天能退回来？", "qa", "10:00:00", 1),
])
def test_paraphrases_find_the_unit_that_answers_them(small, question, group, time, places):
    result = small.ask(question)
    found = [m.pair for m in result.candidates[:places]]
    assert all(pair.group == group for pair in found)
    assert any(time in [m.time.strftime("%H:%M:%S") for m in pair.messages()] for pair in found), found[0].question_text


@pytest.mark.parametrize("chat", ["感谢分享！", "北京哪家火锅好吃？", "周末去爬山的有吗？", "哈哈哈"])
def test_no_answer_to_what_the_days_never_discussed(small, chat):
    assert not small.ask(chat).answered


def test_answers_come_only_from_the_chats_groups_and_name_their_group(small):
    question = "为什么说财付通是发卡行，体现在哪些业务上？"
    mine = small.ask(question, ["qa"])
    assert all(m.pair.group == "qa" for m in mine.candidates)
    both = small.ask(question, ["qa", "prodarch"])
    assert both.candidates[0].pair.group == "prodarch"
    if both.answered:
        assert "prodarch" in answer_text(both)
    assert not small.ask(question, ["nosuchgroup"]).candidates


def test_ceiling_counts_a_right_unit_anywhere_among_the_ranked_candidates(small):
    quality = _quality()

    def row(query, time, answerable=True):
        anchors = {("qa", day, time) for day in ("2030-01-15", "2030-01-16")} if answerable else set()
        return {"query": query, "before": None, "answerable": answerable, "anchors": anchors}

    asked = [row("Ⅱ类账户最多可以绑定多少张银行卡？", "10:00:00"), row("垫资向银行申请的授信一般给多大额度？", "09:05:00")]
    assert quality.ceiling(small, asked) == 1.0  # the second is right in second place: still within reach
    assert quality.ceiling(small, [row("Ⅱ类账户最多可以绑定多少张银行卡？", "23:59:59")]) == 0.0  # labelled elsewhere
    assert quality.ceiling(small, asked + [row("哈哈哈", "", answerable=False)]) == 1.0  # no-answer rows do not count


def test_before_keeps_only_earlier_days(small):
    import datetime as dt

    found = small.ask("Ⅱ类账户最多可以绑定多少张银行卡？", before=dt.date(2030, 1, 15))
    assert all(m.pair.date < dt.date(2030, 1, 15) for m in found.candidates)


# ----- the shared archive: held-out floors -----

@pytest.fixture(scope="module")
def measured():
    from tests.conftest import SHARED_ARCHIVE

    if not SHARED_ARCHIVE.is_dir():
        pytest.skip(f"shared archive not found at {SHARED_ARCHIVE} (only beside the checkout in CI)")
    quality = _quality()
    days, errors = read_folder([SHARED_ARCHIVE])
    assert not errors
    engine = AnswerEngine.from_days(days)
    reworded, live = quality.load_reworded(), quality.load_live(days)
    today, naive = quality.Today(engine), quality.Naive(engine.pairs())
    rows = [r for r in reworded + live if r["split"] == "test"]
    naive.calibrate([r for r in reworded + live if r["split"] == "dev" and not r["answerable"]])
    results = {"lexical": quality.run_engine(engine, rows),
               "today": [(r, *today.ask(r)) for r in rows],
               "naive": [(r, *naive.ask(r)) for r in rows]}

    def figures(name, kind):
        return quality.figures([x for x in results[name] if x[0]["set"] == kind])

    return figures


def test_reworded_test_split_floors(measured):
    ours = measured("lexical", "reworded")
    assert ours["recall@1"] >= FLOORS["reworded_r1"]
    assert ours["recall@5"] >= FLOORS["reworded_r5"]
    assert ours["false_on_none"] <= 0.05
    assert ours["recall@5"] >= measured("naive", "reworded")["recall@5"]


def test_live_test_split_floors(measured):
    ours = measured("lexical", "live")
    assert ours["false_on_none"] <= 0.03
    assert ours["answered"] == 0 or ours["precision"] >= FLOORS["live_precision"]
    assert ours["recall@5"] >= FLOORS["live_r5"]
    assert ours["recall@5"] >= measured("today", "live")["recall@5"]


# Measured (lexical engine, TEST splits, 2026-12-07, listwise ranker fitted on 1,827 dev questions,
# test labels completed by pooled judging of the first five places of every engine): reworded
# recall@1 0.419, recall@5 0.605 (today's engine 0.140 / 0.512, naive 0.023 / 0.093); live recall@5
# 0.615 (today 0.346, naive 0.179). The lexical model answers nothing on either (no dev threshold
# reached 90% precision over three answers).
FLOORS = {"reworded_r1": 0.33, "reworded_r5": 0.55, "live_precision": 0.85, "live_r5": 0.56}
