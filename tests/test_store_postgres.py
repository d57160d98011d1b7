"""Ingest's replace and members paths on a real PostgreSQL server (the non-SQLite insert path)."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.archive.reader import ReadOptions, read_day, read_folder
from bot.store import queries
from bot.store.ingest import DayKey, Status, ingest_day, ingest_paths

DATA = Path(__file__).parent / "data" / "archive"
OPTIONS = ReadOptions(owner_name="群主-测试-北京")


def test_ingest_replace_members_and_read_back_on_postgres(postgres_db, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(DATA, archive)
    assert ingest_paths(postgres_db, [archive], OPTIONS).count(Status.ADDED) == 3
    path = archive / "payclub" / "2021-03-03-chat.markdown"
    path.write_text(path.read_text(encoding="utf-8").replace("周八、南山、产品", "周八-南山-产品"), encoding="utf-8")
    report = ingest_paths(postgres_db, [archive], OPTIONS)
    assert report.changed == [DayKey("payclub", "2021-03-03")]
    names = {m.display_name for m in queries.members(postgres_db, "payclub")}
    assert "周八-南山-产品" in names and "周八、南山、产品" not in names and len(names) == 8
    read, _ = read_folder([archive], OPTIONS)
    stored = list(queries.iter_days(postgres_db, "payclub"))
    for before, after in zip(read, stored, strict=True):
        assert all(a.same_content(b) and a.line == b.line for a, b in zip(before.messages, after.messages, strict=True))
    assert any(m.mentions for d in stored for m in d.messages)
    day = read_day(archive / "payclub" / "2021-03-01-chat.markdown", options=OPTIONS)
    day.messages.pop()
    assert ingest_day(postgres_db, day, options=OPTIONS) is Status.REPLACED
    assert queries.stats(postgres_db).messages == 13
