"""Admin commands: /digest posts the digest now, /names runs the nickname check now.

Only the chat's configured admins (ChatSection.admins: platform user ids) may use them; anyone
else gets a polite refusal. Both run the same code as the scheduled jobs, through a JobContext,
so the ledger still keeps the scheduled post from repeating what an admin just posted.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import JobContext
from handlers.digest import post_digest
from handlers.nicknames import remind_chat

router = Router("admin")

REFUSAL = "抱歉，这个命令只有群管理员可以使用。"


def is_admin(ctx) -> bool:
    message = ctx.message
    return message is not None and message.sender.id in ctx.chat.admins


def job_context(ctx, job_id: str) -> JobContext:
    return JobContext(ctx.services, job_id, ctx.services.now())


@router.command("digest", "日报", hidden=True)
async def digest_now(ctx) -> None:
    """/digest — 立即发布今天的群日报（管理员）"""
    if not is_admin(ctx):
        await ctx.reply(REFUSAL)
        return
    job = job_context(ctx, "digest")
    # A manual digest has its own ledger period, so it never blocks (or repeats) the scheduled one.
    posted = await post_digest(job, ctx.chat, period=f"manual:{job.now:%Y-%m-%dT%H:%M}")
    if not posted:
        await ctx.reply("日报刚刚已经发过了。" if not job.failures else "日报发送失败，请稍后再试。")


@router.command("names", "昵称", hidden=True)
async def names_now(ctx) -> None:
    """/names — 立即检查群昵称并提醒不合规的成员（管理员）"""
    if not is_admin(ctx):
        await ctx.reply(REFUSAL)
        return
    job = job_context(ctx, "nicknames")
    result = await remind_chat(job, ctx.chat)
    if result["already"]:
        await ctx.reply("今天已经提醒过了，明天会再提醒仍未修改的成员。")
    elif not result["reminded"] and not result["escalated"]:
        await ctx.reply("所有已知成员的群昵称都符合群规。")
    elif result["escalated"]:
        await ctx.reply(f"已提醒 {len(result['reminded'])} 人；{len(result['escalated'])} 人已报告给管理员。")
