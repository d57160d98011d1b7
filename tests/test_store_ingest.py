"""Ingest into a real SQLite file: idempotence, replacement, bad files, members, queries, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.archive.reader import ReadOptions, read_day, read_folder
from bot.archive.writer import write_day
from bot.cli import main
from bot.store import queries
from bot.store.db import connect
from bot.store.ingest import DayKey, Status, ingest_day, ingest_paths
from bot.store.schema import days, members, messages

DATA = Path(__file__).parent / "data" / "archive"
OPTIONS = ReadOptions(owner_name="群主-测试-北京")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def archive(tmp_path) -> Path:
    """A writable copy of the invented fixture archive (one group, three days, 14 messages)."""
    target = tmp_path / "archive"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture
def engine(tmp_path):
    engine = connect(tmp_path / "store.db")
    yield engine
    engine.dispose()


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (days, messages, members))


def test_ingest_twice_changes_nothing(engine, archive):
    first = ingest_paths(engine, [archive], OPTIONS)
    assert [r.status for r in first.files] == [Status.ADDED] * 3 and first.ok
    assert first.messages == 14 and counts(engine) == (3, 14, 8)
    assert first.changed == [DayKey("payclub", "2021-03-01"), DayKey("payclub", "2021-03-02"),
                             DayKey("payclub", "2021-03-03")]
    second = ingest_paths(engine, [archive], OPTIONS)
    assert [r.status for r in second.files] == [Status.UNCHANGED] * 3
    assert second.messages == 0 and second.changed == [] and counts(engine) == (3, 14, 8)


def test_changed_file_replaces_its_day(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    path = archive / "payclub" / "2021-03-03-chat.markdown"
    raw = path.read_text(encoding="utf-8").replace("今天的讨论到此", "明天继续讨论")
    path.write_text(raw + "> 22:10:00  新人-某付-产品  \n   \n大家好  \n   \n", encoding="utf-8")
    with engine.begin() as conn:  # as if the first ingest ran long ago
        conn.execute(update(days).values(ingested_ts=1))
    report = ingest_paths(engine, [archive], OPTIONS)
    assert [r.status for r in report.files] == [Status.UNCHANGED, Status.UNCHANGED, Status.REPLACED]
    assert queries.changed_since(engine, 2) == [("payclub", "2021-03-03")]
    assert len(queries.changed_since(engine, 1)) == 3
    assert report.changed == [DayKey("payclub", "2021-03-03")] and report.messages == 2
    assert counts(engine) == (3, 15, 9)
    day = queries.load_day(engine, "payclub", dt.date(2021, 3, 3))
    assert [m.text for m in day.messages] == ["明天继续讨论，@赵六～橙子金融～风控 晚安", "大家好"]
    with engine.connect() as conn:
        assert conn.execute(select(days.c.message_count).where(days.c.date == "2021-03-03")).scalar() == 2


def test_replacing_a_day_drops_members_no_longer_seen(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    path = archive / "payclub" / "2021-03-03-chat.markdown"
    path.write_text(path.read_text(encoding="utf-8").replace("周八、南山、产品", "周八-南山-产品"), encoding="utf-8")
    ingest_paths(engine, [archive], OPTIONS)
    names = {m.display_name for m in queries.members(engine, "payclub")}
    assert "周八-南山-产品" in names and "周八、南山、产品" not in names and len(names) == 8


def test_members_first_and_last_seen(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    seen = {m.display_name: m for m in queries.members(engine, "payclub")}
    zone = dt.timezone(dt.timedelta(hours=8))
    lily = seen["Lily_云闪科技_研发"]
    assert lily.platform == "archive" and lily.user_key == lily.display_name
    assert lily.first_seen == int(dt.datetime(2021, 3, 1, 8, 1, 40, tzinfo=zone).timestamp())
    assert lily.last_seen == int(dt.datetime(2021, 3, 2, 9, 0, 10, tzinfo=zone).timestamp())
    assert "群主-测试-北京" in seen and "我" not in seen


def test_bad_file_is_reported_and_the_good_ones_still_go_in(engine, archive, tmp_path):
    bad = archive / "payclub" / "2021-03-04-chat.markdown"
    bad.write_text("---\ndate: 2021-03-04\n---\n> 10:00  甲  \n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    report = ingest_paths(engine, [archive, tmp_path / "missing", tmp_path / "empty"], OPTIONS)
    assert not report.ok and report.count(Status.FAILED) == 3 and report.count(Status.ADDED) == 3
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'missing'}: no such file or folder",
        f"{tmp_path / 'empty'}: no day files (YYYY-MM-DD-chat.markdown) in this folder or its subfolders",
        f"{bad}:4: malformed message header '> 10:00  甲'"]
    assert counts(engine)[:2] == (3, 14)


def test_a_file_that_turns_bad_keeps_its_stored_day(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    path = archive / "payclub" / "2021-03-02-chat.markdown"
    path.write_text(path.read_text(encoding="utf-8").replace("> 09:00:10", "> 9:00:10"), encoding="utf-8")
    report = ingest_paths(engine, [archive], OPTIONS)
    assert report.count(Status.FAILED) == 1 and counts(engine)[:2] == (3, 14)


def test_changed_options_replace_the_days(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    report = ingest_paths(engine, [archive], ReadOptions(owner_name="新群主"))
    assert report.count(Status.REPLACED) == 3
    names = {m.display_name for m in queries.members(engine, "payclub")}
    assert "新群主" in names and "群主-测试-北京" not in names


def test_worker_processes_give_the_same_store_and_errors(tmp_path, archive):
    bad = archive / "payclub" / "2021-03-04-chat.markdown"
    bad.write_text("---\ndate: 2021-03-04\n---\n> 10:00  甲  \n", encoding="utf-8")
    stores = []
    for workers in (0, 2):
        engine = connect(tmp_path / f"w{workers}.db")
        report = ingest_paths(engine, [archive], OPTIONS, workers=workers)
        assert report.count(Status.ADDED) == 3
        assert [str(e) for e in report.errors] == [f"{bad}:4: malformed message header '> 10:00  甲'"]
        stores.append([(d.date, [(m.time, m.speaker, m.text, m.line) for m in d.messages])
                       for d in queries.iter_days(engine)])
        engine.dispose()
    assert stores[0] == stores[1]


def test_stored_days_are_the_reader_days(engine, archive):
    ingest_paths(engine, [archive], OPTIONS)
    read, _ = read_folder([archive], OPTIONS)
    stored = list(queries.iter_days(engine, "payclub"))
    assert [d.date for d in stored] == [d.date for d in read]
    for before, after in zip(read, stored):
        assert (after.group, after.title, after.author, after.declared_lines, after.source) == (
            before.group, before.title, before.author, before.declared_lines, before.source)
        assert len(after.messages) == len(before.messages)
        for a, b in zip(before.messages, after.messages):
            assert a.same_content(b) and (a.line, a.source) == (b.line, b.source)
            assert b.time.tzinfo is not None and b.time.utcoffset() == dt.timedelta(hours=8)
    assert queries.load_day(engine, "payclub", "2021-03-09") is None
    assert queries.load_day(engine, "nosuch", "2021-03-01") is None
    only = list(queries.iter_days(engine, keys=[("payclub", "2021-03-02")]))
    assert [d.date for d in only] == [dt.date(2021, 3, 2)]
    assert queries.load_day(engine, "payclub", "2021-03-01", zone="UTC").messages[0].time.hour == 0


def test_stats_groups_and_days(engine, archive, tmp_path):
    second = tmp_path / "other" / "devclub"
    second.mkdir(parents=True)
    shutil.copy(archive / "payclub" / "2021-03-03-chat.markdown", second)
    ingest_paths(engine, [archive, second], OPTIONS)
    result = queries.stats(engine)
    assert queries.groups(engine) == ["devclub", "payclub"]
    by_group = {g.group: g for g in result.groups}
    assert (by_group["payclub"].days, by_group["payclub"].messages, by_group["payclub"].speakers) == (3, 14, 8)
    assert (by_group["payclub"].first_date, by_group["payclub"].last_date) == ("2021-03-01", "2021-03-03")
    assert (by_group["devclub"].days, by_group["devclub"].messages, by_group["devclub"].speakers) == (1, 1, 1)
    assert (result.total.days, result.messages, result.total.speakers) == (4, 15, 8)  # 周八 is in both groups
    assert result.to_json()["messages"] == 15
    listed = queries.list_days(engine, "payclub")
    assert [(d.date.isoformat(), d.message_count, d.declared_lines) for d in listed] == [
        ("2021-03-01", 9, 12), ("2021-03-02", 4, 7), ("2021-03-03", 1, 4)]


def test_ingest_day_and_the_published_file_agree(engine, archive, tmp_path):
    day = read_day(archive / "payclub" / "2021-03-01-chat.markdown", options=OPTIONS)
    assert ingest_day(engine, day, options=OPTIONS) is Status.ADDED
    assert ingest_day(engine, day, options=OPTIONS) is Status.UNCHANGED
    written = write_day(day, tmp_path / "published")
    report = ingest_paths(engine, [written], OPTIONS)  # the nightly job's file: already stored
    assert [r.status for r in report.files] == [Status.UNCHANGED]
    day.messages.pop()
    assert ingest_day(engine, day, options=OPTIONS) is Status.REPLACED
    assert counts(engine)[:2] == (1, 8)
    with engine.begin() as conn:  # a caller's own transaction
        day.messages.pop()
        assert ingest_day(conn, day, options=OPTIONS) is Status.REPLACED
    assert counts(engine)[:2] == (1, 7)


# --- the CLI ----------------------------------------------------------------------------------

def test_cli_ingest_stats_and_export(tmp_path, archive, capsys):
    db = str(tmp_path / "cli.db")
    assert main(["ingest", str(archive), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "added" in out and "14" in out
    assert main(["ingest", str(archive), "--db", db]) == 0
    assert "unchanged" in capsys.readouterr().out

    assert main(["stats", "--json", "--db", db]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["messages"] == 14 and stats["groups"][0]["group"] == "payclub" and stats["days"] == 3
    assert main(["stats", "--db", db]) == 0
    table = capsys.readouterr().out
    assert "payclub" in table and "total" in table and "2021-03-01" in table

    assert main(["export", "--group", "payclub", "--date", "2021-03-01", "--db", db]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("---\n") and "> 08:05:09  王小明-星河支付-产品-杭州  " in printed
    assert main(["export", "--group", "payclub", "--date", "2021-03-01", "--out", str(tmp_path / "out"), "--db", db]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == tmp_path / "out" / "payclub" / "2021-03-01-chat.markdown" and path.read_text(encoding="utf-8") == printed
    original = read_day(archive / "payclub" / "2021-03-01-chat.markdown")
    exported = read_day(path)
    assert all(a.same_content(b) for a, b in zip(original.messages, exported.messages, strict=True))

    assert main(["export", "--group", "payclub", "--date", "2021-03-09", "--db", db]) == 1
    assert "no day 2021-03-09" in capsys.readouterr().err


def test_cli_ingest_exit_status_and_errors(tmp_path, archive, capsys):
    bad = archive / "payclub" / "2021-03-05-chat.markdown"
    bad.write_text("no front matter\n", encoding="utf-8")
    assert main(["ingest", str(archive), "--db", str(tmp_path / "cli.db")]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:1: no front matter: the file must start with '---'" in captured.err
    assert "failed" in captured.out and "1 file(s) skipped" in captured.err
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--group", "payclub", "--date", "March", "--db", str(tmp_path / "cli.db")])
    assert exit_.value.code == 2


def test_cli_as_a_process(tmp_path, archive):
    db = tmp_path / "proc.db"
    run = subprocess.run([sys.executable, "-m", "bot", "ingest", str(archive), "--db", str(db)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "bot", "stats", "--json", "--db", f"sqlite:///{db}"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0 and json.loads(run.stdout)["messages"] == 14


def test_epoch_times_across_a_clock_change(engine, tmp_path):
    """The bulk path computes times from seconds since midnight; on a DST day it must not."""
    folder = tmp_path / "berlin"
    folder.mkdir()
    blocks = "".join(f"> {t}  甲-某付-产品  \n   \n{t}  \n   \n" for t in ("01:59:59", "03:00:00", "23:59:59"))
    for date in ("2021-03-28", "2021-03-29"):
        (folder / f"{date}-chat.markdown").write_text(
            f"---\ndate: {date} 12:00:00\nauthor: X\n---\n{blocks}", encoding="utf-8")
    options = ReadOptions(timezone="Europe/Berlin", owner_name="群主")
    ingest_paths(engine, [folder], options)
    read, _ = read_folder([folder], options)
    stored = list(queries.iter_days(engine, zone="Europe/Berlin"))
    for before, after in zip(read, stored, strict=True):
        assert [m.time for m in after.messages] == [m.time for m in before.messages]
        assert [m.time.utcoffset() for m in after.messages] == [m.time.utcoffset() for m in before.messages]
    assert [int(m.time.timestamp()) for m in stored[0].messages][:2] == [1616893199, 1616893200]


def test_cli_ingest_defaults_to_the_configured_paths_and_zone(tmp_path, archive, capsys):
    config = tmp_path / "bot.toml"
    config.write_text(f'[bot]\ntimezone = "UTC"\nowner_name = "配置的群主"\n[archive]\npaths = ["{archive}"]\n',
                      encoding="utf-8")
    db = tmp_path / "conf.db"
    assert main(["--config", str(config), "ingest", "--db", str(db)]) == 0
    engine = connect(db)
    day = queries.load_day(engine, "payclub", "2021-03-01", zone="UTC")
    engine.dispose()
    assert day.messages[3].speaker == "配置的群主"
    assert day.messages[0].time == dt.datetime(2021, 3, 1, 8, 1, 2, tzinfo=dt.timezone.utc)
