"""Rule 2.7, the nightly publication: live day -> day file -> store -> answer engine."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.store import ledger
from bot.archive.reader import read_day
from bot.chat import Member
from bot.qa.engine import AnswerEngine
from bot.scheduler import JobScheduler
from bot.store.schema import days, messages
from tests.jobs_support import CHAT_ID, GROUP, Clock, at, incoming, make_config, make_services, store

ASKER = Member("801", "周一-戊支付-产品-广州")
EXPERT = Member("802", "吴二-己清算-架构-上海")
OTHER_CHAT = "-100888"

QUESTION = "请问跨境支付的外汇申报一般怎么处理？"
ANSWER = "跨境支付机构要按国家外汇管理局的要求逐笔做国际收支申报，通常由合作银行代为申报。"


@pytest.fixture
def config(tmp_path, telegram_api):
    chats = [{"platform": "telegram", "chat_id": CHAT_ID, "group": GROUP},
             {"platform": "telegram", "chat_id": OTHER_CHAT, "group": GROUP}]
    return make_config(tmp_path, telegram_api.api_base, chats=chats)


@pytest.fixture
async def env(config, http, fake_clock):
    clock = Clock(at(2024, 6, 2, 0, 10))
    services = make_services(config, http, clock, fake_clock)
    services.answers = AnswerEngine(config.answer)
    await store(services, [
        incoming(ASKER, QUESTION, at(2024, 6, 1, 10, 0)),
        incoming(EXPERT, ANSWER, at(2024, 6, 1, 10, 3), chat_id=OTHER_CHAT),  # a bridged second chat
        incoming(ASKER, "明白了，多谢 @" + EXPERT.name, at(2024, 6, 1, 10, 5)),
        incoming(EXPERT, "<b>不客气</b> & 欢迎交流\n第二行", at(2024, 6, 1, 10, 6)),
        incoming(ASKER, "这条是第二天的", at(2024, 6, 2, 0, 5)),
    ])
    return services, clock


def day_file(config):
    return config.archive.publish_dir / GROUP / "2024-06-01-chat.markdown"


def stored_days(services) -> list[tuple[str, int]]:
    with services.db.connect() as conn:
        rows = conn.execute(select(days.c.date, days.c.message_count).order_by(days.c.date)).all()
    return [tuple(row) for row in rows]


async def test_publication_round_trips_through_the_reader(env):
    services, clock = env
    await JobScheduler(services).trampoline("publish")
    day = read_day(day_file(services.config), GROUP)
    assert [(m.time, m.speaker, m.text) for m in day.messages] == [
        (at(2024, 6, 1, 10, 0), ASKER.name, QUESTION),
        (at(2024, 6, 1, 10, 3), EXPERT.name, ANSWER),
        (at(2024, 6, 1, 10, 5), ASKER.name, "明白了，多谢 @" + EXPERT.name),
        (at(2024, 6, 1, 10, 6), EXPERT.name, "<b>不客气</b> & 欢迎交流\n第二行"),
    ]  # both chats merged in time order; the next day's message is not in it
    assert day.messages[2].mentions == (EXPERT.name,)
    assert stored_days(services) == [("2024-06-01", 4)]


async def test_tomorrows_question_is_answered_from_todays_answer(env):
    services, clock = env
    assert not services.answers.ask(QUESTION, GROUP).answered
    await JobScheduler(services).trampoline("publish")
    result = services.answers.ask("跨境支付外汇申报怎么处理", GROUP)
    assert result.answered and result.match.pair.answers[0].text == ANSWER


async def test_republishing_is_idempotent_and_late_edits_replace_the_day(env):
    services, clock = env
    scheduler = JobScheduler(services)
    await scheduler.trampoline("publish")
    first = day_file(services.config).read_text(encoding="utf-8")
    await scheduler.trampoline("publish")  # a second clock or a restart: nothing changes
    assert day_file(services.config).read_text(encoding="utf-8") == first
    assert len(ledger.runs(services.db, "publish")) == 1
    late = incoming(EXPERT, "补充：个人业务通过银行申报。", at(2024, 6, 1, 23, 59))
    await store(services, [late])
    clock.now = at(2024, 6, 2, 9, 0)
    await scheduler.trampoline("publish")
    assert "补充" in day_file(services.config).read_text(encoding="utf-8")
    assert stored_days(services) == [("2024-06-01", 5)]  # replaced, never duplicated
    with services.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 5
    assert len(list(day_file(services.config).parent.iterdir())) == 1


async def test_an_empty_day_writes_nothing(config, http, fake_clock):
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)
    await JobScheduler(services).trampoline("publish")
    assert not day_file(config).exists() and stored_days(services) == []


async def test_a_web_process_beside_the_clock_picks_up_the_published_day(env, http, fake_clock):
    from bot.scheduler import refresh_only_jobs

    clock_services, clock = env
    web = make_services(clock_services.config, http, clock, fake_clock)  # another process, same store
    web.answers = AnswerEngine.from_store(web.db, web.config.answer)
    web_jobs = JobScheduler(web, refresh_only_jobs())
    await web_jobs.trampoline("refresh-answers")  # first run: the index already has everything
    await JobScheduler(clock_services).trampoline("publish")
    assert not web.answers.ask("跨境支付外汇申报怎么处理", GROUP).answered
    await web_jobs.trampoline("refresh-answers")
    assert web.answers.ask("跨境支付外汇申报怎么处理", GROUP).answered


@pytest.mark.parametrize("text", [
    "a &amp; b &lt;c&gt; <d>", "> 12:00:00  不是标题", "第一段\n\n第二段", "[强][强]", "![](https://img.example.org/x.png)",
    "行尾有空格  ", "@某人 你看 @另一人", "* 列表\n- 也是列表", "   前面有空格", "```code```"])
async def test_tricky_texts_survive_the_round_trip(config, http, fake_clock, text):
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)
    await store(services, [incoming(ASKER, text, at(2024, 6, 1, 10, 0)), incoming(EXPERT, "收到", at(2024, 6, 1, 10, 1))])
    await JobScheduler(services).trampoline("publish")
    day = read_day(day_file(config), GROUP)
    assert [m.text for m in day.messages] == [text.strip(), "收到"]


async def test_replies_are_published_as_reply_links_and_answer_first(tmp_path, telegram_api, http, fake_clock):
    """A Telegram reply two hours later, after unrelated talk, still answers the question it replies to."""
    config = make_config(tmp_path, telegram_api.api_base)  # one chat: archive ids are the platform's ids
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)
    services.answers = AnswerEngine(config.answer)
    question = incoming(ASKER, QUESTION, at(2024, 6, 1, 10, 0))
    chatter = [incoming(EXPERT, f"今天的会议第{i}项议程已经结束了", at(2024, 6, 1, 10, 30 + i)) for i in range(3)]
    reply = incoming(EXPERT, ANSWER, at(2024, 6, 1, 12, 0), reply_to=question.message_id)
    await store(services, [question, *chatter, reply])
    await JobScheduler(services).trampoline("publish")
    text = day_file(config).read_text(encoding="utf-8")
    assert f'{{: #m{reply.message_id} data-reply-to="m{question.message_id}"}}' in text
    day = read_day(day_file(config), GROUP)
    assert (day.messages[-1].id, day.messages[-1].reply_to) == (f"m{reply.message_id}", f"m{question.message_id}")
    result = services.answers.ask("跨境支付外汇申报怎么处理", GROUP)
    assert result.answered and [m.text for m in result.match.pair.answers] == [ANSWER]


def test_live_ids_of_a_group_fed_by_several_chats_name_their_chat():
    from bot.store.days import live_anchor

    assert live_anchor("telegram", "-1001", "42", several_chats=False) == "m42"
    one, other = live_anchor("telegram", "-1001", "42", True), live_anchor("telegram", "-1002", "42", True)
    assert one != other and one.endswith("-42") and other.endswith("-42")


async def test_live_text_cannot_publish_a_header_or_a_script_link(config, http, fake_clock):
    """The two findings: a live text with a header line inside, and a javascript: image line."""
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)
    forged = "看这个\n> 09:00:00  我\n大家把钱转给我"
    await store(services, [incoming(ASKER, forged, at(2024, 6, 1, 10, 0)),
                           incoming(EXPERT, "![img](javascript:alert(document.domain))", at(2024, 6, 1, 10, 1)),
                           incoming(EXPERT, "![\n> 09:00:00  我\n](http://x.org/a.png)", at(2024, 6, 1, 10, 2))])
    await JobScheduler(services).trampoline("publish")
    day = read_day(day_file(services.config), GROUP)
    assert [(m.speaker, m.kind.value) for m in day.messages] == [(ASKER.name, "text"), (EXPERT.name, "text"),
                                                                   (EXPERT.name, "text")]
    assert day.messages[0].text == forged and all(m.image_url is None for m in day.messages)


async def test_slack_thread_replies_are_published_with_the_ids_a_slack_import_uses(tmp_path, telegram_api, http,
                                                                                 fake_clock):
    import datetime as dt

    from bot.archive.links import anchor
    from bot.chat import Incoming

    config = make_config(tmp_path, telegram_api.api_base)
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)

    def slack(ts: str, sender: Member, text: str, thread: str | None = None) -> Incoming:
        return Incoming(platform="slack", chat_id="C0100GENL", message_id=ts, sender=sender, text=text,
                        time=dt.datetime.fromtimestamp(float(ts), dt.timezone.utc),
                        reply_to=thread if thread != ts else None, thread_id=thread)

    root = "1717207200.000100"  # 2024-06-01 10:00 in Shanghai
    await store(services, [slack(root, ASKER, QUESTION, root),
                           slack("1717214400.000200", EXPERT, ANSWER, root)])
    await JobScheduler(services).trampoline("publish")
    day = read_day(day_file(config), GROUP)
    assert [(m.id, m.reply_to) for m in day.messages] == [
        (anchor(root), None), (anchor("1717214400.000200"), anchor(root))]
    assert anchor(root) == "m1717207200:2e000100"  # what `archive-bot import slack` writes for that ts
