"""`archive-bot import telegram`: Telegram Desktop's result.json (one chat, or a whole account with --chat)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.archive.reader import read_day
from bot.store.db import connect
from bot.store.schema import messages
from tests.imports_support import exchange, DATA, archive_texts, ask, day_text, import_error, run_import

EXPORT = DATA / "telegram" / "result.json"
NEWER = DATA / "telegram" / "result-newer.json"
ACCOUNT = DATA / "telegram" / "account-result.json"


def stored_messages(tmp_path) -> int:
    engine = connect(tmp_path / "store.db")
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(messages)).scalar_one()
    finally:
        engine.dispose()


def test_every_message_entry_is_one_message_and_service_entries_are_skipped(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "telegram", EXPORT)
    assert (summary["messages"], summary["imported"], summary["already_archived"]) == (14, 14, 0)
    assert summary["skipped"] == {"service: create_group": 1, "service: invite_members": 1,
                                  "service: join_group_by_link": 1, "service: pin_message": 1}
    assert (summary["days"], summary["first"], summary["last"]) == (2, "2024-03-04", "2024-03-05")
    assert summary["ingested"]["added"] == 2 and stored_messages(tmp_path) == 14
    day = read_day(tmp_path / "archive" / "imported" / "2024-03-04-chat.markdown", "imported")
    texts = [m.text for m in day.messages]
    assert texts == [
        "请问银联二维码的退款一般多久能到账？",
        "今天午饭大家吃什么",
        "[photo]",
        "看这个 清算流程图，原文 (https://example.org/flow)",  # entities, a text_link keeps its address
        "银联二维码退款原路退回，一般1到3个工作日到账；\n信用卡要等发卡行入账，可能要7天。",  # two lines
        "谢谢 @陈一鸣！信用卡为什么更慢呢？",  # mention_name entity
        "发卡行要在账单上冲正，账单日前后还会更久。",  # edited: the final text
        "[sticker 👍]",
        "[voice message]",
        "[file: 对账规范v2.pdf] 对账规范第二版",
        "[forwarded from 支付笔记] 大家看看 @pay_notes 这个频道",
    ]
    # date_unixtime shown in the configured zone (Asia/Shanghai by default)
    assert [m.time.strftime("%H:%M") for m in day.messages[:2]] == ["09:00", "09:02"]
    assert [(m.id, m.reply_to) for m in day.messages[4:7]] == [("m7", "m3"), ("m8", "m7"), ("m9", "m8")]
    assert "\n[video]  \n" in day_text(tmp_path, "2024-03-05")
    assert day_text(tmp_path, "2024-03-05").count("> ") == 3  # good morning, a video, a poll
    assert "[poll: 周会改到周四可以吗？]" in day_text(tmp_path, "2024-03-05")


def test_a_question_is_answered_by_ask_with_the_replies_linked_to_it(capsys, tmp_path):
    run_import(capsys, tmp_path, "telegram", EXPORT)
    result = ask(capsys, tmp_path, "银联二维码退款多久到账")
    assert exchange(result)["question"] == "请问银联二维码的退款一般多久能到账？"
    # three hours later, after other talk: the reply links, not the time window, found these
    assert [a["time"] for a in exchange(result)["answers"]] == ["12:10:00", "12:12:00", "12:15:00"]


def test_a_newer_overlapping_export_adds_only_what_is_new(capsys, tmp_path):
    run_import(capsys, tmp_path, "telegram", EXPORT)
    before = day_text(tmp_path, "2024-03-05")
    summary = run_import(capsys, tmp_path, "telegram", NEWER)
    assert (summary["messages"], summary["imported"], summary["updated"], summary["already_archived"]) == (12, 2, 1, 9)
    assert summary["skipped"] == {"service: join_group_by_link": 1, "service: pin_message": 1,
                                  "service: remove_members": 1}
    assert summary["ingested"] == {"added": 1, "replaced": 1, "unchanged": 0, "failed": 0}
    assert stored_messages(tmp_path) == 16  # 14 + 2 new, nothing twice
    assert day_text(tmp_path, "2024-03-05") == before  # untouched: nothing new that day
    day = day_text(tmp_path, "2024-03-04")
    assert "一般不超过两个账单周期" in day and day.count("{: #m9 ") == 1  # the later edit replaced the text
    assert '{: #m20 data-reply-to="m19"}' in day_text(tmp_path, "2024-03-06")
    again = run_import(capsys, tmp_path, "telegram", NEWER)
    assert (again["imported"], again["updated"], again["already_archived"], again["files_written"]) == (0, 0, 12, [])
    assert stored_messages(tmp_path) == 16


def test_whole_account_export_imports_only_the_chosen_chat(capsys, tmp_path):
    summary = run_import(capsys, tmp_path, "telegram", ACCOUNT, "--chat", "支付技术交流（测试）")
    assert (summary["messages"], summary["imported"]) == (14, 14)
    assert "绝不能被导入" not in archive_texts(tmp_path) and "吴秘密" not in archive_texts(tmp_path)
    by_id = run_import(capsys, tmp_path / "by-id", "telegram", ACCOUNT, "--chat", "1234567890")
    assert by_id["imported"] == 14
    assert "choose a chat with --chat" in import_error(capsys, tmp_path, "telegram", ACCOUNT)
    assert "'家庭群（测试）'" in import_error(capsys, tmp_path, "telegram", ACCOUNT, "--chat", "nope")


def test_names_are_renamed_or_anonymised_with_a_name_map(capsys, tmp_path):
    names = tmp_path / "names.toml"
    names.write_text('[rename]\n"陈一鸣" = "专家A"\n\n[anonymise]\nothers = true\nsalt = "a long test salt"\n',
                     encoding="utf-8")
    run_import(capsys, tmp_path, "telegram", EXPORT, "--map-names", str(names))
    text = archive_texts(tmp_path)
    for real in ("陈一鸣", "林小溪", "周大川", "何子涵", "支付笔记", "pay_notes"):  # forwarded from, @username too
        assert real not in text, real
    assert "[forwarded from Member " in text
    day = read_day(tmp_path / "archive" / "imported" / "2024-03-04-chat.markdown", "imported")
    speakers = [m.speaker for m in day.messages]
    assert speakers[4] == "专家A" and "谢谢 @专家A！" in day.messages[5].text
    assert speakers[0].startswith("Member ") and speakers[0] == speakers[5] != speakers[1]
    again = tmp_path / "again"
    run_import(capsys, again, "telegram", EXPORT, "--map-names", str(names))
    assert archive_texts(again) == text  # same salt, same pseudonyms: a re-import adds nothing


def test_broken_exports_and_options_fail_with_one_line(capsys, tmp_path):
    broken = tmp_path / "result.json"
    broken.write_text('{"name": "x", "messages": [{"id": 1, "type": "message", "date_unixtime": "1"', encoding="utf-8")
    assert "not valid JSON" in import_error(capsys, tmp_path, "telegram", broken)
    assert "cannot read" in import_error(capsys, tmp_path, "telegram", tmp_path / "missing.json")
    assert "--channel does not apply" in import_error(capsys, tmp_path, "telegram", EXPORT, "--channel", "x")
    assert "plain folder name" in import_error(capsys, tmp_path, "telegram", EXPORT, "--group", "../x")
    names = tmp_path / "bad.toml"
    names.write_text("[anonymise]\nothers = true\n", encoding="utf-8")
    assert "needs a salt" in import_error(capsys, tmp_path, "telegram", EXPORT, "--map-names", str(names))


def test_progress_is_reported_by_bytes_while_streaming(tmp_path):
    import json

    from bot.imports.telegram import read_export

    entry = {"id": 0, "type": "message", "date_unixtime": "1709514000", "from": "林小溪", "text": "消息" * 20}
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"name": "x", "messages": [dict(entry, id=i) for i in range(5000)]},
                                 ensure_ascii=False), encoding="utf-8")
    seen = []
    assert sum(1 for _ in read_export(export, progress=lambda done, total: seen.append((done, total)))) == 5000
    size = export.stat().st_size
    assert len(seen) >= 3 and seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[0][0] < size


def test_hostile_entries_have_a_defined_fate(capsys, tmp_path):
    import json

    base = {"type": "message", "date_unixtime": "1709514000", "from": "林小溪"}
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"name": "x", "messages": [
        dict(base, id=1, text={"not": "text"}, photo=None),
        dict(base, id=2, text=["a", 5, None, {"type": "bold"}, {"type": "mention_name", "text": "陈一鸣"}]),
        dict(base, id=3, date_unixtime="not a number", text="x"),
        dict(base, id=4, date_unixtime="253402300799", text="year 9999"),
        dict(base, id=5, **{"from": None}, text="NUL\u0000 and a lone \ud800 surrogate\r\nline two"),
        dict(base, id=6, text="reply to another chat", reply_to_message_id=9, reply_to_peer_id="channel1"),
        dict(base, id=7, text="poll", poll="not an object", media_type=["x"]),
        "not an object", 12,
        {"id": 8, "type": "unknown_kind"},
    ]}), encoding="utf-8")
    summary = run_import(capsys, tmp_path, "telegram", export)
    assert summary["skipped"] == {"message without a date": 1, "time out of range": 1,
                                  "entry that is not an object": 2, "entry of type 'unknown_kind'": 1}
    day = read_day(tmp_path / "archive" / "imported" / "2024-03-04-chat.markdown", "imported")
    assert [(m.speaker, m.text, m.reply_to) for m in day.messages] == [
        ("林小溪", "", None), ("林小溪", "a@陈一鸣", None),
        ("(unknown)", "NUL and a lone ? surrogate\nline two", None),  # yajl reads a lone surrogate as "?"
        ("林小溪", "reply to another chat", None), ("林小溪", "poll", None)]
