"""`/help`: every command with its one-line help, taken from the handler's docstring (errbot-style)."""

from __future__ import annotations

from bot.context import Context
from bot.router import Router

router = Router("help", order=10)


def help_text(ctx: Context) -> str:
    lines = [f"{ctx.services.config.bot.name} 可用命令："]
    for route in ctx.router.commands():
        names = " ".join(f"/{name}" for name in route.names)
        lines.append(f"{names} {route.help}" if route.help else names)
    if ctx.router.of_kind("fallback") and ctx.chat.auto_answer != "off":
        lines.append("群里的提问如果以前讨论过，我会自动给出以前的回答。")
    return "\n".join(lines)


@router.command("help", "帮助", "start")
async def show_help(ctx: Context) -> None:
    """— 列出所有命令和用法"""
    await ctx.reply(help_text(ctx))
