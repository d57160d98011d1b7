"""`archive-bot import slack`: a workspace export (zip or folder), one channel, threads as reply links."""

from __future__ import annotations

import json
import shutil

from bot.archive.reader import read_day
from bot.imports.slack import render
from tests.imports_support import DATA, archive_texts, ask, day_text, import_error, run_import

EXPORT = DATA / "slack" / "export"
NEWER = DATA / "slack" / "newer"
QUESTION_ID = "m1711933200:2e000200"  # anchor of ts 1711933200.000200


def test_every_message_but_joins_and_leaves_is_imported_from_the_chosen_channel(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "slack", EXPORT, "--channel", "general")
    assert (summary["messages"], summary["imported"]) == (10, 10)
    assert summary["skipped"] == {"channel_join": 1, "channel_leave": 1}
    assert (summary["days"], summary["first"], summary["last"]) == (2, "2024-04-01", "2024-04-02")
    day = read_day(tmp_path / "archive" / "imported" / "2024-04-01-chat.markdown", "imported")
    assert [(m.time.strftime("%H:%M:%S"), m.speaker, m.text) for m in day.messages] == [
        ("09:00:00", "小溪", "请问清算系统的日切时间一般怎么定？ <T+1> 的话 & 节假日怎么办？参考 日切说明 (https://example.org/cutoff)"),
        ("09:05:00", "大川", "中午谁一起去吃饭"),
        ("09:13:20", "deploybot", "部署完成: https://ci.example.org/build/42"),
        ("12:00:00", "陈一鸣", "@小溪 一般23:00日切，\n节假日顺延到下一个工作日，见 #random 里的表"),  # real name: no display name
        ("12:05:00", "小溪", "谢谢 @陈一鸣！那跨行的呢？"),
        ("12:06:40", "陈一鸣", "跨行的以人行大额系统的日切为准。"),  # thread_broadcast
        ("12:16:40", "大川", "[file: 日切流程.png] 流程图"),
        ("12:33:20", "zihan", "@here 周五下午四点开会"),  # edited; a deleted user keeps the account name
    ]
    assert {m.reply_to for m in day.messages[3:6]} == {QUESTION_ID} and day.messages[0].id == QUESTION_ID
    assert "绝不能被导入" not in archive_texts(tmp_path)


def test_the_zip_slack_gives_reads_like_the_folder(capsys, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", EXPORT)
    summary = run_import(capsys, tmp_path / "zip", "slack", archive, "--channel", "C0100GENL")  # by id
    folder = run_import(capsys, tmp_path / "folder", "slack", EXPORT, "--channel", "#general")
    assert summary["imported"] == folder["imported"] == 10
    assert archive_texts(tmp_path / "zip") == archive_texts(tmp_path / "folder")


def test_a_thread_question_is_answered_by_ask_with_its_replies(capsys, tmp_path):
    run_import(capsys, tmp_path, "slack", EXPORT, "--channel", "general")
    result = ask(capsys, tmp_path, "日切时间一般怎么定")
    assert result["answered"] and result["match"]["question"].startswith("请问清算系统的日切时间")
    # three hours after the question, after lunch talk and a bot: the thread, not the clock, pairs them
    assert [a["time"] for a in result["match"]["answers"]] == ["12:00:00", "12:05:00", "12:06:40"]


def test_a_newer_overlapping_export_adds_only_what_is_new(capsys, tmp_path):
    run_import(capsys, tmp_path, "slack", EXPORT, "--channel", "general")
    first_day = day_text(tmp_path, "2024-04-01")
    summary = run_import(capsys, tmp_path, "slack", NEWER, "--channel", "general")
    assert (summary["messages"], summary["imported"], summary["updated"], summary["already_archived"]) == (12, 2, 1, 9)
    assert summary["skipped"] == {"channel_join": 2, "channel_leave": 1}
    assert day_text(tmp_path, "2024-04-01") == first_day
    assert "收到，已经转给财务" in day_text(tmp_path, "2024-04-02")
    assert "data-reply-to=\"m1712106100:2e000200\"" in day_text(tmp_path, "2024-04-03")
    again = run_import(capsys, tmp_path, "slack", NEWER, "--channel", "general")
    assert (again["imported"], again["updated"], again["files_written"]) == (0, 0, [])


def test_markup_becomes_readable_text():
    users = {"U1": "小溪"}
    assert render("<@U1> <@U9|ghost> <#C1|ops> <!channel> <!subteam^S1|@devs> <!date^1712019600^{date}|4月2日>",
                  users, {}) == "@小溪 @ghost #ops @channel @devs 4月2日"
    assert render("<https://x.org>, <https://x.org|x.org/a> &amp;lt; a &lt;b&gt;", {}, {}) == (
        "https://x.org, x.org/a (https://x.org) &lt; a <b>")


def test_channel_is_required_and_must_exist(capsys, tmp_path):
    assert "--channel" in import_error(capsys, tmp_path, "slack", EXPORT)
    assert "channels: general, random" in import_error(capsys, tmp_path, "slack", EXPORT, "--channel", "nope")
    assert "no users.json" in import_error(capsys, tmp_path, "slack", EXPORT / "general", "--channel", "general")
    assert "--chat does not apply" in import_error(capsys, tmp_path, "slack", EXPORT, "--chat", "x")


def test_a_terminal_gets_a_progress_bar(capsys, tmp_path, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws as on a terminal
    assert main(["import", "slack", str(EXPORT), "--channel", "general", "--group", "g", "--out",
                 str(tmp_path / "archive"), "--db", str(tmp_path / "store.db")]) == 0
    out, err = capsys.readouterr()
    assert "import" in err and "100%" in err
    assert "imported (new)" in out and "skipped: channel_join" in out  # the summary table


def test_hostile_fields_have_a_defined_fate(capsys, tmp_path):
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    (export / "general" / "2024-04-05.json").write_text(json.dumps([
        {"type": "message", "user": "U0100AAAA", "text": 12, "ts": "1712300000.000100", "files": 7,
         "user_profile": "x"},
        {"type": "message", "user": ["x"], "text": "无效的 ts", "ts": "abc"},
        {"type": "message", "user": "U0100AAAA", "text": "遥远的未来\u0000", "ts": "253402300799.000000"},
        {"type": "message", "user": "U0100AAAA", "text": "<@U0100AAAA> \ud800 ok", "ts": "1712300001.000100",
         "thread_ts": {"not": "a ts"}},
        "not an object",
    ]), encoding="utf-8")
    summary = run_import(capsys, tmp_path / "out", "slack", export, "--channel", "general")
    assert summary["skipped"] == {"channel_join": 1, "channel_leave": 1, "message without a ts": 1,
                                  "time out of range": 1, "entry that is not an object": 1}
    day = read_day(tmp_path / "out" / "archive" / "imported" / "2024-04-05-chat.markdown", "imported")
    assert [m.text for m in day.messages] == ["", "@小溪 \ufffd ok"]
