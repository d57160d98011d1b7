"""The Telegram webhook end to end: signed updates in over HTTP, replies out to the fake Bot API."""

from __future__ import annotations

import json

from tests.integration.conftest import BOT_USERNAME, TELEGRAM_CHAT, post_telegram, tg_update


async def test_every_message_is_stored_before_the_ack(tg_bot):
    update = tg_update("今天大家都在忙什么", name="Ada Lovelace")
    response = await post_telegram(tg_bot.client, update)
    assert response.status == 200
    # the response has arrived: the row must already be committed
    rows = tg_bot.live_rows(platform="telegram", chat_id=TELEGRAM_CHAT)
    assert [(r["message_id"], r["sender_name"], r["text"]) for r in rows] == [
        (str(update["message"]["message_id"]), "Ada Lovelace", "今天大家都在忙什么")]
    assert rows[0]["date"] == "2026-11-25"
    member = [m for m in tg_bot.member_rows() if m["user_key"] == "501"]
    assert member and member[0]["display_name"] == "Ada Lovelace" and not member[0]["is_bot"]


async def test_duplicate_delivery_is_stored_once_and_answered_once(tg_bot, telegram_api):
    update = tg_update("/help")
    for _ in range(3):
        assert (await post_telegram(tg_bot.client, update)).status == 200
    assert len(tg_bot.live_rows(message_id=str(update["message"]["message_id"]))) == 1
    sent = telegram_api.sent()
    assert len(sent) == 1
    assert "/search" in sent[0]["text"] or "/help" in sent[0]["text"]
    assert sent[0]["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert str(sent[0]["chat_id"]) == TELEGRAM_CHAT


async def test_help_lists_commands_with_their_docstring_line(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update(f"/help@{BOT_USERNAME}"))
    text = telegram_api.sent()[0]["text"]
    assert "/help /帮助" in text and "列出所有命令和用法" in text


async def test_forged_or_missing_secret_is_refused_and_not_stored(tg_bot, telegram_api):
    update = tg_update("/help")
    assert (await post_telegram(tg_bot.client, update, secret="wrong")).status == 403
    response = await tg_bot.client.post("/webhook/telegram", data=json.dumps(update),
                                        headers={"Content-Type": "application/json"})
    assert response.status == 403
    assert tg_bot.live_rows() == [] and telegram_api.sent() == []


async def test_bad_input_is_4xx_or_silent_200_never_500(tg_bot, telegram_api):
    client = tg_bot.client
    assert (await post_telegram(client, b"{not json")).status == 400
    assert (await post_telegram(client, b"\xff\xfe")).status == 400
    assert (await post_telegram(client, b"[1, 2]")).status == 400
    assert (await post_telegram(client, tg_update("hi"), content_type="text/plain")).status == 415
    assert (await post_telegram(client, {"update_id": 5, "message": {"message_id": 1}})).status == 400
    assert (await post_telegram(client, {"update_id": 6, "message": {"chat": "x", "from": 3, "text": 1,
                                                                      "date": "x", "message_id": 2}})).status == 400
    # an update kind we do not handle is acknowledged so Telegram stops re-sending it
    assert (await post_telegram(client, {"update_id": 7, "callback_query": {"id": "1"}})).status == 200
    oversized = json.dumps(tg_update("x" * (tg_bot.config.server.max_body_bytes + 10))).encode()
    assert (await post_telegram(client, oversized)).status == 413
    assert (await client.post("/webhook/nosuch", json={})).status == 404
    assert (await client.get("/webhook/telegram")).status == 405
    assert (await client.post("/webhook/slack", json={})).status == 404  # not configured here
    assert tg_bot.live_rows() == [] and telegram_api.sent() == []


async def test_unconfigured_chat_is_acknowledged_but_ignored(tg_bot, telegram_api):
    response = await post_telegram(tg_bot.client, tg_update("/help", chat_id="-999"))
    assert response.status == 200
    assert tg_bot.live_rows() == [] and telegram_api.sent() == []


async def test_other_bots_are_stored_but_never_answered(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/help", user_id=777, name="OtherBot", is_bot=True))
    assert len(tg_bot.live_rows(sender_id="777")) == 1
    assert [m["is_bot"] for m in tg_bot.member_rows() if m["user_key"] == "777"] == [True]
    assert telegram_api.sent() == []


async def test_command_after_emoji_uses_utf16_offsets(tg_bot, telegram_api):
    text = "😀🎉 /help"  # two astral-plane emoji: 4 UTF-16 units, then a space
    entity = {"type": "bot_command", "offset": 5, "length": 5}
    assert len(text[:3]) == 3  # in Python indices the command would start at 3
    await post_telegram(tg_bot.client, tg_update(text, entities=[entity]))
    assert len(telegram_api.sent()) == 1


async def test_edited_message_updates_the_stored_text_and_is_not_answered_again(tg_bot, telegram_api):
    first = tg_update("/help", message_id=4242)
    await post_telegram(tg_bot.client, first)
    await post_telegram(tg_bot.client, tg_update("/help please", message_id=4242, edited=True, update_id=99_999))
    rows = tg_bot.live_rows(message_id="4242")
    assert len(rows) == 1 and rows[0]["text"] == "/help please" and rows[0]["edited_ts"] is not None
    assert len(telegram_api.sent()) == 1


async def test_join_event_records_join_time(tg_bot):
    update = tg_update("", new_chat_members=[{"id": 888, "is_bot": False, "first_name": "Newcomer"}])
    del update["message"]["text"]
    assert (await post_telegram(tg_bot.client, update)).status == 200
    joined = [m for m in tg_bot.member_rows() if m["user_key"] == "888"]
    assert joined and joined[0]["joined_ts"] is not None and joined[0]["display_name"] == "Newcomer"
