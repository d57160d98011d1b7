"""Erasure end to end: after /forgetme (or `archive-bot erase`) a member's words are found nowhere —
not in any store table, /search, /ask, the web day pages nor the published day files — on SQLite
and PostgreSQL. Every name and line here is invented."""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import LargeBinary, select

from bot.archive.model import Day, Message
from bot.archive.writer import write_day
from bot.config import SAMPLE_ARCHIVE
from bot.store.schema import erasures, metadata
from handlers.publish import publish_day_sync
from tests.integration.conftest import (
    GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)

ZONE = ZoneInfo("Asia/Shanghai")
LEAVER = "沈默-星河支付-杭州"
STAYER = "顾问-测试-上海"
SECRET_WORDS = "星河报表"  # only the leaver says it (others search for it)
THEIR_LINES = ("先导出T+1的对账文件再逐笔核对", "的导出模板我可以分享", "今天又晚了")
PASSWORD = "correct horse"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"archive:{PASSWORD}".encode()).decode()}


def invented_day() -> Day:
    t = lambda h, m: dt.datetime(2018, 3, 1, h, m, tzinfo=ZONE)  # noqa: E731
    return Day(GROUP, dt.date(2018, 3, 1), "2018-03-01-WeChat", "test", messages=[
        Message(t(10, 0), STAYER, "备付金对账一般用哪家的报表系统比较稳定？"),
        Message(t(10, 3), LEAVER, f"我们用{SECRET_WORDS}，先导出T+1的对账文件再逐笔核对，很稳定。"),
        Message(t(10, 5), STAYER, "明白了，谢谢"),
        Message(t(10, 9), LEAVER, f"{SECRET_WORDS}的导出模板我可以分享。"),
    ])


@pytest.fixture
async def bot(make_bot, telegram_api, tmp_path, store_url):
    archive = tmp_path / "archive"
    write_day(invented_day(), archive)
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                      archive={"paths": [str(SAMPLE_ARCHIVE), str(archive)], "publish_dir": str(tmp_path / "published")},
                      web={"password": PASSWORD})
    raw["store"] = {"url": store_url}
    return await make_bot(raw)


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def store_dump(db) -> str:
    """Every value of every row of every table (binary vectors left out), as one text."""
    parts = []
    with db.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
            for row in conn.execute(select(*columns)):
                parts.append(" ".join(map(str, row)))
    return "\n".join(parts)


async def test_forgetme_leaves_the_words_nowhere(bot, telegram_api, tmp_path):
    services = bot.services
    await post_telegram(bot.client, tg_update(f"{SECRET_WORDS}今天又晚了", user_id=801, name=LEAVER))
    publish_day_sync(services, GROUP, dt.date(2026, 11, 25), 1764036000)  # last night's publication
    published = tmp_path / "published" / GROUP / "2026-11-25-chat.markdown"
    assert LEAVER in published.read_text(encoding="utf-8")
    await post_telegram(bot.client, tg_update(f"/search {SECRET_WORDS}", user_id=5))
    assert f"{LEAVER}：" in plain(telegram_api.sent()[-1]["text"])  # found before the erasure
    question = "备付金对账一般用什么报表系统比较稳定？"
    assert SECRET_WORDS in str(services.answers.ask(question, GROUP).to_json())
    await post_telegram(bot.client, tg_update(f"/ask {question}", user_id=5))
    assert SECRET_WORDS in plain(telegram_api.sent()[-1]["text"])

    await post_telegram(bot.client, tg_update("/forgetme", user_id=801, name=LEAVER))
    assert "/forgetme 确认" in telegram_api.sent()[-1]["text"]
    assert all(line in store_dump(services.db) for line in THEIR_LINES)  # nothing happened without confirming
    await post_telegram(bot.client, tg_update("/forgetme 确认", user_id=801, name=LEAVER))
    assert "存档中 3 条、本群新消息 3 条" in telegram_api.sent()[-1]["text"]

    dump = store_dump(services.db)
    assert [line for line in dump.splitlines() if LEAVER in line] == []
    assert LEAVER not in dump and not any(line in dump for line in THEIR_LINES)
    await post_telegram(bot.client, tg_update(f"/search {SECRET_WORDS}", user_id=5))
    await post_telegram(bot.client, tg_update(f"/ask {question}", user_id=5))
    searched, asked = (plain(reply["text"]) for reply in telegram_api.sent()[-2:])
    assert searched.startswith("没有找到包含“星河报表”")
    assert LEAVER not in asked and not any(line in asked for line in THEIR_LINES)
    assert SECRET_WORDS not in str(services.answers.ask(question, GROUP).to_json())
    assert not services.answers.search(SECRET_WORDS, GROUP)
    for date in ("2018-03-01", "2026-11-25"):
        page = await bot.client.get(f"/archive/{GROUP}/{date}", headers=AUTH)
        assert page.status in (200, 404)
        body = await page.text()
        assert LEAVER not in body and SECRET_WORDS not in body
    files = [p.read_text(encoding="utf-8") for p in (tmp_path / "published").rglob("*.markdown")]
    assert files and not any(LEAVER in text or SECRET_WORDS in text for text in files)
    with services.db.connect() as conn:
        [audit] = conn.execute(select(erasures)).mappings().all()
    assert (audit["requested_by"], audit["scope"], audit["archived"], audit["live"]) == ("telegram:801", GROUP, 3, 3)  # live: with both /forgetme messages


def test_operator_erase_with_markers(tmp_path):
    from bot.cli import main
    from bot.store import connect, queries
    from bot.store.ingest import ingest_paths

    db_path, archive = tmp_path / "bot.db", tmp_path / "archive"
    write_day(invented_day(), archive)
    ingest_paths(connect(db_path), [archive])
    from bot.qa.retrieval import body_text
    from bot.qa.mining import mine_day
    from bot.store.vectors import load_vectors, save_vectors, text_hash

    [unit] = mine_day(invented_day())  # the stayer's question, answered by the leaver
    kept = text_hash(STAYER + " only")
    doomed = [text_hash(body_text(unit)), text_hash(invented_day().messages[1].text)]
    save_vectors(connect(db_path), "test-encoder", [*doomed, kept], np.eye(3, dtype=np.float32))
    assert main(["erase", "--speaker", LEAVER, "--group", GROUP, "--mode", "marker", "--db", str(db_path)]) == 0
    day = queries.load_day(connect(db_path), GROUP, "2018-03-01")
    assert [m.speaker for m in day.messages] == [STAYER, "（已删除）", STAYER, "（已删除）"]
    assert day.messages[1].text == "（此消息已应发言人要求删除）"
    dump = store_dump(connect(db_path))
    assert LEAVER not in dump and SECRET_WORDS not in dump  # nobody else mentioned it here
    assert set(load_vectors(connect(db_path), "test-encoder", 3, [*doomed, kept])) == {kept}  # vectors of their words gone
    ingest_paths(connect(db_path), [archive])  # a restart reads the unchanged source file again
    assert LEAVER not in store_dump(connect(db_path))
    assert main(["erase", "--speaker", "无此人", "--db", str(db_path)]) == 0  # nobody by that name: nothing to do
