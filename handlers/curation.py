"""Admins curate the answers: /pin (this is the answer to that question), /unpin, /hide.

What is curated is named by a reply: to one of the bot's answers (its archived unit), to any live
message (that message), or, for archived messages nobody can reply to, by their time in the
arguments (`/pin 2018-02-28 09:15:06 问题`). /pin's question is its remaining words, else the
question the answer answered, else the message the pinned one replied to. Pinned answers come
first for that question and its close paraphrases, cited with who said it and when
(bot/pinned.py); hidden units are never answered from. Only the chat's configured admins, and the
platform's own admins where the adapter can tell (`is_chat_admin`: Telegram's group
administrators, Slack's workspace admins and owners), may curate. A reply to a question the bot
answered names that answer (on Slack a reply is a message in the question's thread).
"""

from __future__ import annotations

import logging
import re

from bot import learning
from bot.context import Context
from bot.router import Router
from bot.store import answers, curation, live, queries

log = logging.getLogger(__name__)
router = Router("curation", order=75)

REFUSAL = "抱歉，只有群管理员可以置顶或隐藏回答。"
PIN_USAGE = ("用法：回复机器人的回答或任意一条消息发送 /pin [问题]，"
             "或 /pin 日期 时间 问题（例如 /pin 2018-02-28 09:15:06 财付通为什么算发卡行）")
TARGET_USAGE = "用法：回复机器人的回答（或被置顶的消息）发送这个命令。"
_ARCHIVED = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2})?)\s*(.*)$", re.S)


async def may_curate(ctx: Context) -> bool:
    """A configured admin of the chat, or (with `platform_admins`) one the platform calls an admin."""
    sender = ctx.message.sender.id
    if sender in ctx.chat.admins:
        return True
    lookup = getattr(ctx.services.adapters.get(ctx.chat.platform), "is_chat_admin", None)
    if not ctx.chat.platform_admins or lookup is None:
        return False
    try:
        return await lookup(ctx.chat.chat_id, sender)
    except Exception as exc:  # noqa: BLE001 - the platform could not tell: only configured admins
        log.info("chat admins of %s:%s unavailable: %s", ctx.chat.platform, ctx.chat.chat_id, type(exc).__name__)
        return False


def _archived(ctx: Context, args: str) -> tuple[str, str] | None:
    """(unit, rest of the words) for "YYYY-MM-DD HH:MM[:SS] words" naming an archived message."""
    found = _ARCHIVED.match(args)
    if not found:
        return None
    date, clock, rest = found.groups()
    day = queries.load_day(ctx.services.db, ctx.group, date, ctx.services.zone)
    if day is None:
        return None
    clock = clock.zfill(8 if clock.count(":") == 2 else 5)  # "9:15" -> "09:15": the first of that minute
    for seq, message in enumerate(day.messages):
        if message.time.strftime("%H:%M:%S").startswith(clock):
            return learning.message_unit(ctx.group, date, seq), rest.strip()
    return None


async def _target(ctx: Context) -> tuple[str, str] | None:
    """(unit, question) the command names: the answer or message it replies to, or an archived time."""
    message, db = ctx.message, ctx.services.db
    platform, chat_id = ctx.chat.platform, ctx.chat.chat_id
    if message.reply_to is not None:
        logged = await ctx.db(answers.find, db, platform, chat_id, message.reply_to)
        if logged is not None:
            return logged.unit, ctx.args or logged.question
        replied = await ctx.db(live.message, db, platform, chat_id, message.reply_to)
        if replied is not None:
            question = ctx.args
            if not question and replied.reply_to:
                asked = await ctx.db(live.message, db, platform, chat_id, replied.reply_to)
                question = asked.text if asked is not None else ""
            return learning.live_unit(platform, chat_id, replied.message_id), question
    archived = await ctx.db(_archived, ctx, ctx.args)
    return archived


async def _curate(ctx: Context, action: str) -> None:
    if not await may_curate(ctx):
        await ctx.reply(REFUSAL)
        return
    target = await _target(ctx)
    if target is None or (action == "pin" and not target[1].strip()):
        await ctx.reply(PIN_USAGE if action == "pin" else TARGET_USAGE)
        return
    unit, question = target
    await ctx.db(curation.add, ctx.services.db, platform=ctx.chat.platform, chat_id=ctx.chat.chat_id,
                 action=action, unit=unit, question=question.strip() if action == "pin" else "",
                 admin_id=ctx.message.sender.id, ts=int(ctx.now.timestamp()))
    if action == "pin":
        await ctx.reply(f"已置顶：以后有人问“{question.strip()[:60]}”时先给出这条回答。")
    else:
        await ctx.reply("已隐藏：以后不会再用这条记录回答。")


@router.command("pin", "置顶", hidden=True)
async def pin(ctx: Context) -> None:
    """[问题] — 回复一条回答或消息：以后这个问题先给出它（管理员）"""
    await _curate(ctx, "pin")


@router.command("hide", "隐藏", hidden=True)
async def hide(ctx: Context) -> None:
    """— 回复机器人的回答：以后不再用这条记录回答（管理员）"""
    await _curate(ctx, "hide")


@router.command("unpin", "取消置顶", hidden=True)
async def unpin(ctx: Context) -> None:
    """— 回复被置顶或隐藏的回答：取消置顶和隐藏（管理员）"""
    if not await may_curate(ctx):
        await ctx.reply(REFUSAL)
        return
    target = await _target(ctx)
    if target is None:
        await ctx.reply(TARGET_USAGE)
        return
    gone = await ctx.db(curation.remove, ctx.services.db, ctx.chat.platform, ctx.chat.chat_id, target[0])
    await ctx.reply("已取消置顶和隐藏。" if gone else "这条回答没有被置顶或隐藏。")
