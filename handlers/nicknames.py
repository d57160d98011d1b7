"""Rule 2.5 in practice: the morning reminder, the reminder counts, escalation to the admins.

At schedule.nickname_time each chat gets ONE reminder that @-mentions every known member whose
display name fails the rule (bot/nickname_rule.py), split into several messages when there are
more mentions than `nicknames.mentions_per_message`. Each reminder counts (bot/store/reminders.py);
after `reminders_before_escalation` unheeded reminders the member is listed to the admins as
eligible for removal, once, and is no longer reminded. Removal is never automatic unless
`nicknames.enforce = "remove"` and the platform adapter can remove members.

A member who renames is recognised on their next message (the observer below, and the members
table that the inbox refreshes on every message) or at once on a platform's member-update event
(the bridge's `member_update`; the inbox has already stored the new name): a conforming name
clears their count.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.chat import Member, Outgoing, short_name
from bot.config import ChatSection, Config
from bot.context import Context
from bot.nickname_rule import Candidate, NicknameRule, batches, non_conforming, plan
from bot.router import Router
from bot.store import ledger, members, reminders

log = logging.getLogger(__name__)
router = Router("nicknames", order=60)


def rule_of(config: Config) -> NicknameRule:
    return NicknameRule.from_config(config.nicknames)


def rule_for(services) -> NicknameRule:
    """The rule of the current config, built once and kept in `Services.nickname_rule`.

    Config sections are frozen but hold lists, so they are not hashable (no lru_cache): the cache
    remembers the section object itself and rebuilds when services.config is replaced."""
    section = services.config.nicknames
    cached = services.nickname_rule
    if cached is None or cached[0] is not section:
        cached = services.nickname_rule = (section, NicknameRule.from_config(section))
    return cached[1]


def exempt_keys(config: Config, chat: ChatSection | None = None) -> set[str]:
    """Ids and names never reminded: the owner, the chat's admins, the allow-list."""
    keys = {config.bot.owner_name, *config.nicknames.allow}
    if chat is not None:
        keys.update(chat.admins)
    return keys


def shares_group(config: Config, chat: ChatSection) -> bool:
    """Does another configured chat on the same platform feed the same archive group?"""
    return any(other.group == chat.group and other.platform == chat.platform and other.chat_id != chat.chat_id
               for other in config.chats)


def reminder_messages(rule: NicknameRule, chat: ChatSection, people: Sequence[Candidate], per_message: int) -> list[Outgoing]:
    """The reminder, cut so that no message carries more than `per_message` mentions."""
    chunks = batches(list(people), per_message)
    out = []
    for number, chunk in enumerate(chunks, start=1):
        part = f"（{number}/{len(chunks)}）" if len(chunks) > 1 else ""
        out.append(Outgoing(chat_id=chat.chat_id, text=f"请按群规修改下群昵称，谢谢。{part}\n{rule.text}",
                            mentions=tuple(Member(c.key, short_name(c.name)) for c in chunk)))
    return out


def admin_target(chat: ChatSection) -> tuple[str, tuple[Member, ...]]:
    """Where admin reports go: the admin chat, or this chat addressed to the admins."""
    if chat.admin_chat_id:
        return chat.admin_chat_id, ()
    return chat.chat_id, tuple(Member(admin, admin) for admin in chat.admins)


def escalation_text(people: Sequence[Candidate], threshold: int, enforce: str, removed: Sequence[str] = ()) -> str:
    lines = [f"以下成员经 {threshold} 次提醒仍未按群规修改昵称（群规 2.5），可以移出本群："]
    lines += [f"- {short_name(c.name)}" for c in people]
    if enforce == "remove":
        lines.append(f"已自动移出 {len(removed)} 人。" if removed else "本平台不支持机器人移出成员，请手动处理。")
    return "\n".join(lines)


async def remind_chat(ctx: Context, chat: ChatSection, period: str | None = None) -> dict:
    """One chat's reminder run; returns who was reminded, escalated and reset (for replies/tests)."""
    services, config = ctx.services, ctx.config
    rule = rule_for(services)
    now_ts = int(ctx.now.timestamp())
    period = period or ctx.today.isoformat()
    candidates = await ctx.db(members.known, services.db, chat.group, chat.platform,
                              chat.chat_id if shares_group(config, chat) else None)
    flagged = [c for c, _ in non_conforming(rule, candidates, exempt_keys(config, chat), now_ts, config.nicknames.grace_days)]
    counts = await ctx.db(reminders.counts, services.db, chat.platform, chat.chat_id)
    todo = plan(flagged, counts, config.nicknames.reminders_before_escalation)
    await ctx.db(reminders.clear, services.db, chat.platform, chat.chat_id, todo.reset)
    services.reminded.pop((chat.platform, chat.chat_id), None)
    result = {"reminded": [], "escalated": [], "reset": list(todo.reset), "already": False}
    if todo.remind:
        messages = reminder_messages(rule, chat, todo.remind, config.nicknames.mentions_per_message)
        posted = await ctx.post_once(
            chat, period, messages, job="nicknames",
            on_claim=lambda conn: reminders.count(conn, chat.platform, chat.chat_id, todo.remind, now_ts, +1),
            on_release=lambda conn: reminders.count(conn, chat.platform, chat.chat_id, todo.remind, now_ts, -1))
        result["reminded"] = [c.name for c in todo.remind] if posted else []
        result["already"] = not posted
        services.reminded.pop((chat.platform, chat.chat_id), None)
    if todo.escalate:
        removed = []
        if config.nicknames.enforce == "remove":  # only the clock that wins this claim removes anyone
            key = ledger.RunKey("nicknames-removal", f"{chat.platform}:{chat.chat_id}", period)
            if await ctx.db(ledger.claim, services.db, key, ", ".join(c.key for c in todo.escalate), now_ts):
                removed = await _remove(ctx, chat, todo.escalate)
        target, mentions = admin_target(chat)
        text = escalation_text(todo.escalate, config.nicknames.reminders_before_escalation, config.nicknames.enforce, removed)
        keys = [c.key for c in todo.escalate]
        posted = await ctx.post_once(
            chat, period, [Outgoing(chat_id=target, text=text, mentions=mentions)], job="nicknames-escalation",
            on_claim=lambda conn: reminders.mark_escalated(conn, chat.platform, chat.chat_id, keys, now_ts),
            on_release=lambda conn: reminders.mark_escalated(conn, chat.platform, chat.chat_id, keys, None))
        result["escalated"] = [c.name for c in todo.escalate] if posted else []
    return result


async def _remove(ctx: Context, chat: ChatSection, people: Sequence[Candidate]) -> list[str]:
    """enforce = "remove": only where the adapter offers `remove_member(chat_id, user_id)`."""
    adapter = ctx.services.adapters.get(chat.platform)
    remove = getattr(adapter, "remove_member", None)
    if remove is None:
        return []
    removed = []
    for person in people:
        try:
            await remove(chat.chat_id, person.key)
            removed.append(person.name)
        except Exception as exc:  # noqa: BLE001 - reported, the others still go
            log.warning("removing a member from %s:%s failed: %s", chat.platform, chat.chat_id, type(exc).__name__)
    return removed


@router.job("nicknames", at="nickname_time")
async def nickname_job(ctx: Context) -> None:
    """The scheduled run (schedule.nickname_time): every configured chat (an admin's /names: one)."""
    for chat in ctx.chats:
        result = ctx.results[(chat.platform, chat.chat_id)] = await remind_chat(ctx, chat)
        log.info("nicknames %s:%s: %d reminded, %d escalated, %d reset", chat.platform, chat.chat_id,
                 len(result["reminded"]), len(result["escalated"]), len(result["reset"]))


def _conforms(rule: NicknameRule):
    return lambda name: rule.check(name).ok


REMINDED_CACHE_SECONDS = 60  # how stale the web process's view of who was reminded may be


async def _was_reminded(ctx: Context, member_id: str) -> bool:
    """Cheap check before any write: the reminded ids of the chat, re-read at most once a minute
    (the clock may run in another process), so ordinary messages cost no store round trip."""
    cache = ctx.services.reminded
    now = ctx.services.now().timestamp()
    loaded = cache.get(ctx.chat_key)
    if loaded is None or now - loaded[0] > REMINDED_CACHE_SECONDS:
        keys = await asyncio.to_thread(reminders.reminded_keys, ctx.services.db, ctx.chat.platform, ctx.chat.chat_id)
        loaded = cache[ctx.chat_key] = (now, keys)
    return member_id in loaded[1]


@router.observe()
async def recognise_rename(ctx: Context) -> None:
    """Every message: a reminded member who now has a conforming name is forgiven."""
    message = ctx.message
    if message is None or not message.sender.id:
        return
    rule = rule_for(ctx.services)
    if not rule.check(message.sender.name).ok or not await _was_reminded(ctx, message.sender.id):
        return
    if await asyncio.to_thread(reminders.forget_if_renamed, ctx.services.db, _conforms(rule), ctx.chat.platform,
                               ctx.chat.chat_id, message.sender.id, message.sender.name):
        ctx.services.reminded.pop(ctx.chat_key, None)


@router.on_member_update()
async def recognise_rename_event(ctx: Context) -> None:
    """A rename event: a reminded member whose new name conforms is forgiven at once.

    Renames are rare, so this asks the store directly instead of the minute-old cache of
    reminded ids (a reminder posted by another process a moment ago is seen too)."""
    member = ctx.update.member
    rule = rule_for(ctx.services)
    if not member.id or not rule.check(member.name).ok:
        return
    if await asyncio.to_thread(reminders.forget_if_renamed, ctx.services.db, _conforms(rule), ctx.chat.platform,
                               ctx.chat.chat_id, member.id, member.name):
        ctx.services.reminded.pop(ctx.chat_key, None)
