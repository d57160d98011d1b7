"""The browsable web archive served by the same app: groups, days, one page per day, search."""

from bot.web.pages import setup_web

__all__ = ["setup_web"]
