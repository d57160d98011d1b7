"""Questions in, archived answers out, through the real Telegram webhook and the fake Bot API."""

from __future__ import annotations

import asyncio
import html
import re

from bot.router import Router
from bot.webhook import DISPATCHER
from tests.fakes.telegram_api import TOKEN, TelegramAPI
from tests.integration.conftest import (
    GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)

PARAPHRASE = "财付通的哪些业务算发卡行的功能？"  # the sample day asks it in other words at 08:59:56
ANSWERER = "张洋-旅付天下-技术-北京"  # who answered it in the sample day


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


async def test_ask_paraphrase_gets_the_archived_answer_as_a_reply(tg_bot, telegram_api):
    update = tg_update(f"/ask {PARAPHRASE}")
    assert (await post_telegram(tg_bot.client, update)).status == 200
    [sent] = telegram_api.sent()
    text = plain(sent["text"])
    assert "这个问题群里讨论过" in text and ANSWERER in text and "为消费者提供账户" in text
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert str(sent["chat_id"]) == TELEGRAM_CHAT


async def test_thread_shows_the_whole_exchange_behind_the_last_answer(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/thread"))
    assert "还没有回答过" in plain(telegram_api.sent()[-1]["text"])
    await post_telegram(tg_bot.client, tg_update(f"/问 {PARAPHRASE}"))
    await post_telegram(tg_bot.client, tg_update("/thread"))
    text = plain(telegram_api.sent()[-1]["text"])
    assert text.startswith(f"{GROUP} 2018-02-28")
    assert "08:59:56" in text and "09:15:06" in text and "为消费者提供账户" in text


async def test_ask_without_a_match_says_nothing_found_and_without_words_shows_usage(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/ask 火星上的量子区块链怎么挖矿？"))
    await post_telegram(tg_bot.client, tg_update("/ask"))
    texts = [plain(s["text"]) for s in telegram_api.sent()]
    assert "没有在群聊记录里找到" in texts[0] and "/search" in texts[0]  # the words may still be there
    assert texts[1].startswith("用法：/ask")


async def test_search_lists_date_speaker_and_snippet(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/搜索 发卡行"))
    await post_telegram(tg_bot.client, tg_update("/search"))
    first, usage = (plain(s["text"]) for s in telegram_api.sent())
    assert first.startswith("“发卡行”的搜索结果")
    assert "1. 2018-02-28 " in first and "发卡行" in first.splitlines()[1]
    assert usage.startswith("用法：/search")


async def test_stats_counts_archive_and_todays_live_messages(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("随便聊两句"))
    await post_telegram(tg_bot.client, tg_update("/统计"))
    text = plain(telegram_api.sent()[-1]["text"])
    assert "1 天，146 条消息" in text and "2018-02-28 至 2018-02-28" in text


async def test_stats_counts_todays_messages_by_the_bot_clock(make_bot, telegram_api, tmp_path):
    import datetime as dt
    from zoneinfo import ZoneInfo

    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    noon = dt.datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # tg_update's date
    bot = await make_bot(raw, clock=lambda: noon)
    for text in ("一", "二", "/stats"):
        await post_telegram(bot.client, tg_update(text))
    assert "今天（2026-11-25）已收到 3 条消息" in plain(telegram_api.sent()[-1]["text"])


async def test_group_question_is_auto_answered_with_mention_and_reply(tg_bot, telegram_api):
    update = tg_update(PARAPHRASE, user_id=321, name="Grace")
    await post_telegram(tg_bot.client, update)
    [sent] = telegram_api.sent()
    assert sent["text"].startswith('<a href="tg://user?id=321">Grace</a> ')
    assert ANSWERER in plain(sent["text"])
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_questions_that_lean_on_the_conversation_get_no_unprompted_answer(tg_bot, telegram_api):
    follow_ups = [
        tg_update("你说的是财付通作为发卡行的业务是吧？", user_id=11),
        tg_update("那财付通的哪些业务算发卡行的功能？", user_id=12),
        tg_update(PARAPHRASE, user_id=13, reply_to_message={"message_id": 1, "date": 0,
                                                              "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup"},
                                                              "from": {"id": 14, "is_bot": False, "first_name": "Lin"},
                                                              "text": "财付通也是发卡行"}),
        tg_update(f"@lin {PARAPHRASE}", user_id=15, entities=[
            {"type": "text_mention", "offset": 0, "length": 4, "user": {"id": 14, "is_bot": False, "first_name": "Lin"}}]),
    ]
    for update in follow_ups:
        assert (await post_telegram(tg_bot.client, update)).status == 200
    assert telegram_api.sent() == []
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=16))  # the same question, standing alone
    assert len(telegram_api.sent()) == 1


async def test_chatter_and_unknown_questions_get_no_reply(tg_bot, telegram_api):
    for text in ("早上好", "今天的会议改到下午了", "火星上的量子区块链怎么挖矿？", "/nosuchcommand 你好"):
        await post_telegram(tg_bot.client, tg_update(text))
    assert telegram_api.sent() == []
    assert len(tg_bot.live_rows()) == 4


async def test_same_question_is_not_answered_twice_within_the_cooldown(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=1))
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=2))  # same words, new message
    await post_telegram(tg_bot.client, tg_update("财付通作为发卡行是实现了哪些功能？", user_id=3))  # same exchange
    assert len(telegram_api.sent()) == 1
    assert len(tg_bot.live_rows()) == 3


async def test_cooldown_expires_by_the_services_clock(make_bot, telegram_api, tmp_path):
    import datetime as dt

    now = [dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)]
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                      answer={"cooldown_seconds": 60})
    bot = await make_bot(raw, clock=lambda: now[0])
    await post_telegram(bot.client, tg_update(PARAPHRASE))
    now[0] += dt.timedelta(seconds=59)
    await post_telegram(bot.client, tg_update(PARAPHRASE))
    now[0] += dt.timedelta(seconds=2)
    await post_telegram(bot.client, tg_update(PARAPHRASE))
    assert len(telegram_api.sent()) == 2


async def test_auto_answer_modes_off_and_suggest(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)}, chats=[
        {"platform": "telegram", "chat_id": "-1", "group": GROUP, "auto_answer": "off"},
        {"platform": "telegram", "chat_id": "-2", "group": GROUP, "auto_answer": "suggest"}])
    bot = await make_bot(raw)
    await post_telegram(bot.client, tg_update(PARAPHRASE, chat_id="-1"))
    assert telegram_api.sent() == []
    await post_telegram(bot.client, tg_update(f"/ask {PARAPHRASE}", chat_id="-1"))  # commands still work
    assert len(telegram_api.sent()) == 1
    await post_telegram(bot.client, tg_update(PARAPHRASE, chat_id="-2"))
    sent = telegram_api.sent()[-1]
    assert str(sent["chat_id"]) == "-2" and plain(sent["text"]).split(" ", 1)[1].startswith("可能相关的讨论")


async def test_bot_never_answers_itself(tg_bot, telegram_api):
    own_id = int(TOKEN.split(":")[0])
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=own_id, name="Archive Bot", is_bot=True))
    await post_telegram(tg_bot.client, tg_update(f"/ask {PARAPHRASE}", user_id=999, name="Helper", is_bot=True))
    assert telegram_api.sent() == []


async def test_replies_per_minute_limit(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                      server={"replies_per_minute": 2})
    bot = await make_bot(raw)
    for _ in range(4):
        await post_telegram(bot.client, tg_update("/help"))
    assert len(telegram_api.sent()) == 2


async def test_long_text_is_split_at_telegrams_limit_through_the_whole_path(tg_bot, telegram_api):
    paragraph = "支付清算🙂结算对账" * 30  # emoji count double in UTF-16
    long_text = "\n\n".join(f"{n}. {paragraph}" for n in range(40))
    router = Router("test-long")

    @router.command("longtest")
    async def long_reply(ctx):
        """a digest-size reply"""
        await ctx.reply(long_text)

    tg_bot.app[DISPATCHER].router.include(router)
    update = tg_update("/longtest")
    await post_telegram(tg_bot.client, update)
    parts = [plain(s["text"]) for s in telegram_api.sent()]
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == long_text.replace("\n", "")
    assert telegram_api.sent()[0]["reply_parameters"]["message_id"] == update["message"]["message_id"]


class SlowTelegramAPI(TelegramAPI):
    """The fake Bot API, answering after a delay (and counting the answers it completed)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay, self.completed = delay, 0
        self.started = asyncio.Event()

    async def _method(self, request):
        self.started.set()
        await asyncio.sleep(self.delay)
        response = await super()._method(request)
        self.completed += 1
        return response


async def test_graceful_shutdown_finishes_an_in_flight_send(make_bot, aiohttp_server, tmp_path):
    slow = SlowTelegramAPI(delay=0.5)
    server = await aiohttp_server(slow.app, host="127.0.0.1")
    slow.url = str(server.make_url("")).rstrip("/")
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(slow)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    bot = await make_bot(raw, inline=False)
    response = await post_telegram(bot.client, tg_update(f"/ask {PARAPHRASE}"))
    assert response.status == 200  # acknowledged before the answer is sent
    await asyncio.wait_for(slow.started.wait(), 5)
    assert slow.completed == 0
    await bot.client.close()  # shuts the app down: cleanup waits for the dispatch task
    assert slow.completed == 1
    assert ANSWERER in plain(slow.sent()[0]["text"])


async def test_a_failing_handler_is_logged_without_secrets_and_the_bot_carries_on(tg_bot, telegram_api, caplog):
    router = Router("test-broken")

    @router.command("broken")
    async def broken(ctx):
        """always fails"""
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")

    tg_bot.app[DISPATCHER].router.include(router)
    caplog.set_level("INFO")
    assert (await post_telegram(tg_bot.client, tg_update("/broken"))).status == 200
    assert (await post_telegram(tg_bot.client, tg_update("/help"))).status == 200
    assert len(telegram_api.sent()) == 1  # /help still answered
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("bot", "handlers")))
    # (the fake API's own access log shows the token in its URL, as Telegram's would)
    assert "handler" in ours and "RuntimeError" in ours and "bot<token>" in ours
    assert TOKEN not in ours and TOKEN.split(":")[1] not in ours


async def test_answers_carry_deep_links_when_a_public_base_url_is_set(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                      bot={"public_base_url": "https://bot.example.org/"})
    bot = await make_bot(raw)
    await post_telegram(bot.client, tg_update(f"/ask {PARAPHRASE}"))
    await post_telegram(bot.client, tg_update("/search 发卡行"))
    answer, hits = (s["text"] for s in telegram_api.sent())  # HTML: the links are clickable
    assert '<a href="https://bot.example.org/archive/prodarch/2018-02-28#t-085956">查看完整讨论</a>' in answer
    assert '<a href="https://bot.example.org/archive/prodarch/2018-02-28#t-' in hits


async def test_unprompted_answers_only_quote_archived_questions_that_stand_alone(make_bot, telegram_api, tmp_path):
    folder = tmp_path / "archive" / "demo"
    folder.mkdir(parents=True)
    (folder / "2020-03-02-chat.markdown").write_text(
        "---\nlayout: source\ntitle: \"2020-03-02-WeChat\"\ndate: 2020-03-02 12:00:00\nauthor: Tester\n---\n"
        "> 10:00:00  甲-某支付-产品-上海  \n   \n那这种模式下，平台的备付金账户由谁来管理？  \n   \n"
        "> 10:00:30  乙-某银行-开发-北京  \n   \n由存管银行管理，平台只能发指令  \n   \n",
        encoding="utf-8")
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": "demo"}])
    raw["archive"] = {"paths": [str(tmp_path / "archive")]}
    bot = await make_bot(raw)
    question = "平台模式下备付金账户由谁来管理？"
    await post_telegram(bot.client, tg_update(question, user_id=21))
    assert telegram_api.sent() == []  # the archived question leaned on its own conversation
    await post_telegram(bot.client, tg_update(f"/ask {question}", user_id=22))
    [sent] = telegram_api.sent()
    assert "由存管银行管理" in plain(sent["text"])  # asked explicitly: the engine's verdict stands
