"""Importers: another platform's chat export into archive day files (`archive-bot import`).

Each format has a reader `(path, selection, progress, zone)` that yields `Imported` messages and
`Skipped` entries (bot/imports/model.py); bot/imports/days.py writes the day files. `FORMATS`
maps the command's FORMAT argument to its reader and the platform's name.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Format(NamedTuple):
    module: str
    function: str
    platform: str  # in day titles ("2024-05-01-Telegram") and the summary
    selection: str | None  # the option that picks one chat of a multi-chat export


FORMATS = {
    "telegram": Format("bot.imports.telegram", "read_export", "Telegram", "chat"),
    "slack": Format("bot.imports.slack", "read_export", "Slack", "channel"),
    "whatsapp": Format("bot.imports.whatsapp", "read_export", "WhatsApp", None),
    "csv": Format("bot.imports.table", "read_csv", "CSV", None),
    "jsonl": Format("bot.imports.table", "read_jsonl", "JSONL", None),
}


def reader(name: str):
    """The reader function of a format."""
    return getattr(importlib.import_module(FORMATS[name].module), FORMATS[name].function)
