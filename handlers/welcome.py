"""Welcoming new members and the periodic rules announcement.

The welcome answers join events (`Incoming.joined`) with the rules and the nickname format, the
way the admin wrote "请新入群的同学注意修改下昵称". The announcement is a scheduled post
(schedule.rules_post_time) with the rules and the day's schedule. Both texts are configurable
(schedule.welcome_text, schedule.rules_post_text); the defaults below are our own summary of the
group's rules, not a copy of the rules file.
"""

from __future__ import annotations

import logging

from bot.chat import Outgoing
from bot.config import Config
from bot.nickname_rule import NicknameRule
from bot.context import Context
from bot.router import Router

log = logging.getLogger(__name__)
router = Router("welcome", order=70)

RULES_SUMMARY = (
    "本群是支付行业产品、架构和管理同学的交流群，请围绕支付话题讨论；"
    "不谈政治、不发广告、不灌水、不做人身攻击。"
    "群里的分享和聊天记录未经群主和嘉宾同意请勿外传，记录每天会整理归档。"
)
DAY_SCHEDULE = "每日安排：19:15 前自由讨论；19:15–19:30 签到；19:30 起进入当天的主题分享。"


def welcome_text(config: Config, names: list[str]) -> str:
    if config.schedule.welcome_text:
        return config.schedule.welcome_text
    rule = NicknameRule.from_config(config.nicknames)
    who = "、".join(names)
    return (f"欢迎 {who} 入群！请新入群的同学注意修改下昵称。\n{rule.text}\n{RULES_SUMMARY}\n"
            f"提问前可以先用 /search 查一下群档案，很多问题以前讨论过。")


def rules_post_text(config: Config) -> str:
    if config.schedule.rules_post_text:
        return config.schedule.rules_post_text
    rule = NicknameRule.from_config(config.nicknames)
    return f"📌 群规提醒\n{RULES_SUMMARY}\n{rule.text}\n{DAY_SCHEDULE}"


@router.on_join()
async def welcome(ctx: Context) -> None:
    """New members get the rules and the nickname format (bots joining are not welcomed)."""
    people = [member for member in ctx.message.joined if not member.is_bot]
    if people:
        await ctx.send(welcome_text(ctx.services.config, [m.name for m in people]), mentions=people)


@router.job("rules", at="rules_post_time")
async def rules_job(ctx: Context) -> None:
    """The scheduled announcement (schedule.rules_post_time): once per chat and day."""
    text = rules_post_text(ctx.config)
    for chat in ctx.chats:
        await ctx.post_once(chat, ctx.today.isoformat(), [Outgoing(chat_id=chat.chat_id, text=text)], job="rules")
