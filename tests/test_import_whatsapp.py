"""`archive-bot import whatsapp`: the Export chat .txt, Android and iPhone layouts, multi-line messages."""

from __future__ import annotations

import zipfile

from bot.archive.reader import read_day
from tests.imports_support import DATA, ask, day_text, import_error, run_import

ANDROID = DATA / "whatsapp" / "android.txt"
NEWER = DATA / "whatsapp" / "android-newer.txt"
IPHONE = DATA / "whatsapp" / "iphone.txt"


def messages(tmp_path, date):
    day = read_day(tmp_path / "archive" / "imported" / f"{date}-chat.markdown", "imported")
    return [(m.time.strftime("%H:%M:%S"), m.speaker, m.text) for m in day.messages]


def test_android_day_first_24_hours_with_system_lines_and_multi_line_messages(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "whatsapp", ANDROID)
    assert (summary["messages"], summary["imported"], summary["skipped"]) == (8, 8, {"system line": 5})
    assert (summary["first"], summary["last"]) == ("2024-03-04", "2024-03-13")  # 13/03: day first
    assert messages(tmp_path, "2024-03-04") == [
        ("09:00:00", "林小溪", "请问代扣协议的签约有效期一般是多久？"),
        ("09:01:00", "周大川", "[media]"),
        ("09:03:00", "陈一鸣", "一般跟随银行的授权，常见是长期有效；\n不过银行可以单方面解约，\n记得定期做签约状态查询。"),
        ("09:04:00", "林小溪", "明白了，谢谢 @陈一鸣"),
        ("09:10:00", "周大川", "参考 https://example.org/a: 第三节"),  # the edited marker is dropped
        ("09:12:00", "周大川", "[deleted message]"),
    ]
    assert messages(tmp_path, "2024-03-13") == [("21:16:00", "何子涵", "大家好")] * 2  # said twice: kept twice


def test_iphone_month_first_am_pm_with_seconds(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "whatsapp", IPHONE)
    assert (summary["messages"], summary["skipped"]) == (6, {"system line": 2})
    assert messages(tmp_path, "2024-03-04") == [
        ("09:00:10", "林小溪", "请问大家 对账文件一般几点能下载？"),
        ("09:05:42", "陈一鸣", "一般早上六点以后，\n遇到日切延迟会晚一点"),
        ("09:06:00", "周大川", "[photo]"),
        ("09:07:13", "周大川", "[file: 00000012-PHOTO-2024-03-04-09-07-13.jpg]"),
    ]
    assert messages(tmp_path, "2024-03-14") == [("00:05:00", "何子涵", "过了午夜"), ("13:30:00", "何子涵", "下午一点半开会")]


def test_a_newer_overlapping_export_adds_only_what_is_new(capsys, tmp_path):
    run_import(capsys, tmp_path, "whatsapp", ANDROID)
    before = day_text(tmp_path, "2024-03-13")
    summary = run_import(capsys, tmp_path, "whatsapp", NEWER)
    assert (summary["messages"], summary["imported"], summary["already_archived"]) == (4, 2, 2)
    assert day_text(tmp_path, "2024-03-13") == before and summary["files_written"][0].endswith("2024-03-14-chat.markdown")


def test_the_zip_whatsapp_shares_and_an_answered_question(capsys, tmp_path):
    archive = tmp_path / "WhatsApp Chat - 支付技术交流.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(ANDROID, "_chat.txt")
    assert run_import(capsys, tmp_path, "whatsapp", archive)["imported"] == 8
    result = ask(capsys, tmp_path, "代扣协议签约有效期多久")
    assert result["answered"] and result["match"]["answers"][0]["text"].startswith("一般跟随银行的授权")


def test_not_a_whatsapp_export(capsys, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\nnothing else\n", encoding="utf-8")
    assert "not a WhatsApp chat export" in import_error(capsys, tmp_path, "whatsapp", other)
    other.write_bytes("04/03/2024, 09:00 - 林: 你好".encode("gbk"))
    assert "not UTF-8" in import_error(capsys, tmp_path, "whatsapp", other)


def test_impossible_dates_and_times_are_skipped_with_a_reason(capsys, tmp_path):
    chat = tmp_path / "_chat.txt"
    chat.write_text("\ufeff31/01/2024, 09:00 - 林小溪: 第一条\n"
                    "31/02/2024, 09:00 - 林小溪: 二月没有三十一号\n"
                    "01/02/2024, 13:00 PM - 林小溪: 下午十三点\n"
                    "01/02/2024, 9:00 PM - 林小溪: 晚上九点\r\n", encoding="utf-8")
    summary = run_import(capsys, tmp_path, "whatsapp", chat)
    assert (summary["imported"], summary["skipped"]) == (2, {"line with an impossible date": 2})
    assert messages(tmp_path, "2024-02-01") == [("21:00:00", "林小溪", "晚上九点")]  # day first: 31/01 told it
