"""Admin commands: /digest posts the digest now, /names runs the nickname check now.

Only the chat's configured admins (ChatSection.admins: platform user ids) may use them; anyone
else gets a polite refusal. Both run the scheduled job itself for this one chat, through the
scheduler's trampoline (`bot.scheduler.run_job`): the same ledger, error handler and one-run-at-a-
time lock, so the scheduled post never repeats what an admin just posted.
"""

from __future__ import annotations

from bot.context import Context
from bot.router import Router
from bot.scheduler import run_job

router = Router("admin", order=80)

REFUSAL = "抱歉，这个命令只有群管理员可以使用。"


def is_admin(ctx: Context) -> bool:
    message = ctx.message
    return message is not None and message.sender.id in ctx.chat.admins


@router.command("digest", "日报", hidden=True)
async def digest_now(ctx: Context) -> None:
    """/digest — 立即发布今天的群日报（管理员）"""
    if not is_admin(ctx):
        await ctx.reply(REFUSAL)
        return
    job = await run_job(ctx.services, "digest", ctx.chat)
    if not job.posted:
        await ctx.reply("日报刚刚已经发过了。" if not job.failures else "日报发送失败，请稍后再试。")


@router.command("names", "昵称", hidden=True)
async def names_now(ctx: Context) -> None:
    """/names — 立即检查群昵称并提醒不合规的成员（管理员）"""
    if not is_admin(ctx):
        await ctx.reply(REFUSAL)
        return
    job = await run_job(ctx.services, "nicknames", ctx.chat)
    result = job.results.get(ctx.chat_key)
    if result is None:
        await ctx.reply("检查失败，请稍后再试。")
    elif result["already"]:
        await ctx.reply("今天已经提醒过了，明天会再提醒仍未修改的成员。")
    elif not result["reminded"] and not result["escalated"]:
        await ctx.reply("所有已知成员的群昵称都符合群规。")
    elif result["escalated"]:
        await ctx.reply(f"已提醒 {len(result['reminded'])} 人；{len(result['escalated'])} 人已报告给管理员。")
