"""Answers in the adapters' Markdown subset, end to end through the fake Telegram API: speakers in
<b>, deep links as <a href>, and archived text full of `<`, `&`, `*`, `_`, backticks and fake
links delivered literally (well-formed HTML, no accidental bold or link). The bridge (WeChat)
keeps plain text. The archive day (tests/data/markup) uses invented names."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.platforms import bridge as bridge_platform
from tests.fakes.bridge_callback import BRIDGE_SECRET
from tests.integration.conftest import TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update

ARCHIVE = Path(__file__).resolve().parent.parent / "data" / "markup"
BASE = "https://bot.example.org"
QUESTION = "请问 a<b & c*d*e 这种限额规则怎么配置？"
ASKER, ANSWERER, OTHER = "小*星-某支付-产品-杭州", "阿&林-样例<科技>-技术-上海", "老_唐-示例银行-架构-北京"
ANSWER = "用 *通配* 规则，阈值写 x<10 & y>5 就行，[文档](http://evil.example/x) 不用看"
LINK = f'<a href="{BASE}/archive/markup/2030-03-02#t-090000">'


class Tags(HTMLParser):
    """The tags of a Telegram HTML text, checked for nesting (Telegram refuses broken HTML)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.opened: list[str] = []
        self.seen: list[tuple[str, dict]] = []
        self.bold: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))
        self.opened.append(tag)

    def handle_endtag(self, tag):
        assert self.opened and self.opened.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data):
        self.text.append(data)
        if self.opened and self.opened[-1] == "b":
            self.bold.append(data)


def parsed(text: str) -> Tags:
    tags = Tags()
    tags.feed(text)
    tags.close()
    assert not tags.opened, f"unclosed {tags.opened}"
    assert {tag for tag, _ in tags.seen} <= {"b", "a", "code"}
    return tags


@pytest.fixture
async def bot(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, archive={"paths": [str(ARCHIVE)]}, bot={"public_base_url": BASE},
                      platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": "markup"}])
    return await make_bot(raw)


async def test_answer_has_bold_speakers_a_clickable_link_and_literal_archived_text(bot, telegram_api):
    await post_telegram(bot.client, tg_update(f"/ask {QUESTION}"))
    [sent] = telegram_api.sent()
    assert sent["parse_mode"] == "HTML"
    tags = parsed(sent["text"])
    assert tags.bold == [ASKER, ANSWERER, OTHER]  # the speakers, and nothing from their texts
    assert [attrs["href"] for tag, attrs in tags.seen if tag == "a"] == [f"{BASE}/archive/markup/2030-03-02#t-090000"]
    assert f"<b>{html.escape(ASKER)}</b>" in sent["text"] and f"<b>{html.escape(ANSWERER)}</b>" in sent["text"]
    assert f"{LINK}查看完整讨论</a>" in sent["text"]
    text = "".join(tags.text)
    assert QUESTION in text and ANSWER in text  # *, <, &, [..](..) exactly as typed
    assert "`rule_id` 记得填，<b>别加粗</b> & 别转义" in text  # typed tags stay text, not markup
    assert "\\" not in text  # no escape characters leak through


async def test_search_and_thread_are_rendered_the_same_way(bot, telegram_api):
    await post_telegram(bot.client, tg_update("/search 限额规则"))
    await post_telegram(bot.client, tg_update(f"/ask {QUESTION}"))
    await post_telegram(bot.client, tg_update("/thread"))
    hits, _, thread = (s["text"] for s in telegram_api.sent())
    search = parsed(hits)
    assert search.bold == [ASKER] and f"{LINK}链接</a>" in hits
    assert "a<b & c*d*e" in "".join(search.text)
    whole = parsed(thread)
    assert whole.bold == [ASKER, ANSWERER, OTHER, ASKER]
    assert "".join(whole.text).startswith(f"markup 2030-03-02\n09:00:00 {ASKER}：{QUESTION}")
    assert ANSWER in "".join(whole.text) and f'{LINK}原文</a>' in thread


async def test_the_bridge_keeps_plain_text(make_bot, bridge_callback, fake_clock, tmp_path):
    raw = base_config(tmp_path, archive={"paths": [str(ARCHIVE)]}, bot={"public_base_url": BASE},
                      platforms={"bridge": {"secret": BRIDGE_SECRET, "callback_url": bridge_callback.callback_url}},
                      chats=[{"platform": "bridge", "chat_id": "r@chatroom", "group": "markup"}])
    bot = await make_bot(raw)
    body = json.dumps({"type": "message", "chat_id": "r@chatroom", "message_id": "m1", "text": f"/ask {QUESTION}",
                       "sender": {"id": "wxid_q", "name": "问者-某公司-产品-上海"}}, ensure_ascii=False).encode()
    timestamp = str(int(fake_clock.now))
    response = await bot.client.post("/webhook/bridge", data=body, headers={
        "Content-Type": "application/json", bridge_platform.TIMESTAMP_HEADER: timestamp,
        bridge_platform.SIGNATURE_HEADER: bridge_platform.sign(BRIDGE_SECRET, timestamp, body)})
    assert response.status == 200
    [posted] = bridge_callback.posted()
    assert posted["markdown"] is False
    assert f"{ANSWERER}：{ANSWER}" in posted["text"] and f"查看完整讨论: {BASE}/archive/markup/2030-03-02#t-090000" in posted["text"]
