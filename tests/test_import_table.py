"""`archive-bot import csv | jsonl`: one message a row (time, speaker, text, optional id and reply_to)."""

from __future__ import annotations

from bot.archive.reader import read_day
from tests.imports_support import exchange, DATA, archive_texts, ask, day_text, import_error, run_import

CSV = DATA / "table" / "wechat.csv"
NEWER = DATA / "table" / "wechat-newer.csv"
JSONL = DATA / "table" / "wechat.jsonl"


def test_csv_rows_with_ids_and_reply_links(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "csv", CSV)
    assert (summary["messages"], summary["imported"]) == (6, 6)
    assert summary["skipped"] == {"row without a readable time": 1, "row without a speaker": 1}
    day = read_day(tmp_path / "archive" / "imported" / "2024-05-06-chat.markdown", "imported")
    assert [(m.time.strftime("%H:%M:%S"), m.speaker, m.id, m.reply_to) for m in day.messages] == [
        ("09:00:00", "林小溪", "mw1", None), ("09:01:30", "周大川", "mw2", None),
        ("09:30:00", "何子涵", "mw3", None),  # ISO with an offset
        ("10:30:00", "陈一鸣", "mw4", "mw1"),  # Unix seconds, a quoted two-line text
        ("10:31:00", "林小溪", "mw5", "mw4")]
    assert day.messages[3].text == "已经是100%集中存管了，\n2019年1月14日起全部交存。"
    assert "demo-exporter" not in archive_texts(tmp_path)  # other columns are ignored
    result = ask(capsys, tmp_path, "备付金集中存管比例是多少")
    assert [a["speaker"] for a in exchange(result)["answers"]] == ["陈一鸣", "林小溪"]


def test_a_newer_csv_updates_by_id_and_adds_the_rest(capsys, tmp_path):
    run_import(capsys, tmp_path, "csv", CSV)
    summary = run_import(capsys, tmp_path, "csv", NEWER)
    assert (summary["imported"], summary["updated"], summary["already_archived"]) == (1, 1, 1)
    assert "[文件] 备付金管理办法.pdf" in day_text(tmp_path, "2024-05-07")


def test_jsonl_lines_and_what_is_skipped(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "jsonl", JSONL)
    assert (summary["messages"], summary["imported"]) == (4, 4)
    assert summary["skipped"] == {"line that is not JSON": 1, "line that is not a JSON object": 1,
                                  "time out of range": 1}  # year 9999
    day = read_day(tmp_path / "archive" / "imported" / "2024-05-06-chat.markdown", "imported")
    assert [(m.time.strftime("%H:%M:%S"), m.speaker, m.text) for m in day.messages] == [
        ("09:00:00", "林小溪", "请问网联的备付金集中存管比例现在是多少？"),
        ("09:01:30", "周大川", "今天好热"),
        ("10:30:00", "陈一鸣", "已经是100%集中存管了，\n2019年1月14日起全部交存。"),  # "Z" = UTC
        ("10:31:00", "12345", ""),  # a number as speaker, null text
    ]


def test_an_export_without_ids_matches_what_one_with_ids_wrote(capsys, tmp_path):
    run_import(capsys, tmp_path, "csv", CSV)
    summary = run_import(capsys, tmp_path, "jsonl", JSONL)
    assert (summary["imported"], summary["already_archived"]) == (1, 3)  # only the empty row is new


def test_a_csv_without_the_required_columns(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("when,who,what\n2024-05-06 09:00:00,a,b\n", encoding="utf-8")
    assert "lacks time, speaker, text" in import_error(capsys, tmp_path, "csv", bad)
