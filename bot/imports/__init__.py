"""Importers: another platform's chat export into archive day files (`archive-bot import`).

Each format is one module with `read_export(path, selection, progress, zone)` yielding
`Imported` messages and `Skipped` entries (bot/imports/model.py); bot/imports/days.py writes the
day files. `FORMATS` maps the command's FORMAT argument to its module and the platform's name.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Format(NamedTuple):
    module: str
    platform: str  # in day titles ("2024-05-01-Telegram") and the summary
    selection: str | None  # the option that picks one chat of a multi-chat export


FORMATS = {
    "telegram": Format("bot.imports.telegram", "Telegram", "chat"),
    "slack": Format("bot.imports.slack", "Slack", "channel"),
    "whatsapp": Format("bot.imports.whatsapp", "WhatsApp", None),
    "csv": Format("bot.imports.table", "CSV", None),
    "jsonl": Format("bot.imports.table", "JSONL", None),
}


def reader(name: str):
    """The `read_export` function of a format."""
    return importlib.import_module(FORMATS[name].module).read_export
