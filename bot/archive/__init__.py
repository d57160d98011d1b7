"""Reading and writing the group's daily Jekyll chat logs."""

from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import (
    ArchiveError, ReadOptions, classify, find_day_files, mentions_in, parse_day, read_day, read_folder,
)
from bot.archive.writer import render_day, write_day

__all__ = [
    "ArchiveError", "Day", "Message", "MessageKind", "ReadOptions",
    "classify", "find_day_files", "mentions_in", "parse_day", "read_day", "read_folder", "render_day", "write_day",
]
