"""The group-commit inbox on a real SQLite file: newness, edits, members, batching, failures."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat import Incoming, Member
from bot.inbox import Inbox, Item
from bot.store.days import live_count
from bot.store import connect
from bot.store.schema import live_messages, members

ZONE = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 15, 30, tzinfo=dt.timezone.utc)  # 23:30 in Shanghai


def msg(message_id: str, *, user: str = "u1", name: str = "Ada", text: str = "hello", at: dt.datetime = T0,
        **extra) -> Item:
    return Item(Incoming("telegram", "-100", message_id, Member(user, name, extra.pop("is_bot", False)), text, at,
                         **extra), "grp")


@pytest.fixture
async def inbox(tmp_path):
    db = connect(tmp_path / "inbox.db")
    box = Inbox(db, ZONE)
    box.start()
    yield box
    await box.close()
    db.dispose()


def rows(box: Inbox, table):
    with box.db.connect() as conn:
        return conn.execute(select(table).order_by(table.c.id)).mappings().all()


async def test_new_then_duplicate_in_one_batch_and_across_batches(inbox):
    assert await inbox.store([msg("1"), msg("1"), msg("2")]) == [True, False, True]
    assert await inbox.store([msg("2")]) == [False]
    stored = rows(inbox, live_messages)
    assert [r["message_id"] for r in stored] == ["1", "2"]
    assert stored[0]["date"] == "2026-11-25" and stored[0]["ts"] == int(T0.timestamp())


async def test_local_date_follows_the_bot_zone(inbox):
    await inbox.store([msg("late", at=T0 + dt.timedelta(hours=1))])  # 00:30 next day in Shanghai
    assert rows(inbox, live_messages)[0]["date"] == "2026-11-26"
    assert live_count(inbox.db, "grp", "2026-11-26") == 1 and live_count(inbox.db, "grp", "2026-11-25") == 0


async def test_edit_updates_text_and_is_never_new(inbox):
    await inbox.store([msg("5", text="first")])
    assert await inbox.store([msg("5", text="second", edited=True)]) == [False]
    assert await inbox.store([msg("6", text="edit of an unseen message", edited=True)]) == [False]
    by_id = {r["message_id"]: r for r in rows(inbox, live_messages)}
    assert by_id["5"]["text"] == "second" and by_id["5"]["edited_ts"] is not None
    assert by_id["6"]["text"] == "edit of an unseen message"


async def test_members_keep_first_seen_update_name_last_seen_and_join(inbox):
    later = T0 + dt.timedelta(minutes=5)
    await inbox.store([msg("1", name="Ada")])
    await inbox.store([msg("2", name="Ada-Payments-Shanghai", at=later)])
    await inbox.store([msg("3", user="u9", name="Joiner", text="", joined=(Member("u7", "New One"),), at=later)])
    await inbox.store([msg("4", user="u7", name="New One-Bank-Beijing", at=later + dt.timedelta(minutes=1))])
    by_key = {r["user_key"]: r for r in rows(inbox, members)}
    assert by_key["u1"]["display_name"] == "Ada-Payments-Shanghai"
    assert by_key["u1"]["first_seen_ts"] == int(T0.timestamp()) and by_key["u1"]["last_seen_ts"] == int(later.timestamp())
    assert by_key["u7"]["joined_ts"] == int(later.timestamp())  # kept when later messages arrive
    assert by_key["u7"]["display_name"] == "New One-Bank-Beijing" and by_key["u1"]["joined_ts"] is None


async def test_concurrent_requests_share_commits_and_all_resolve(inbox):
    results = await asyncio.gather(*(inbox.store([msg(f"c{i}", user=f"u{i % 7}")]) for i in range(300)))
    assert results == [[True]] * 300
    assert inbox.stored == 300 and inbox.batches < 300  # group commit: fewer transactions than requests
    assert len(rows(inbox, live_messages)) == 300


async def test_a_bad_request_fails_alone(inbox):
    bad = Item(Incoming("telegram", "-100", "x", Member("u1", "Ada"), None, T0), "grp")  # text NOT NULL
    outcomes = await asyncio.gather(inbox.store([msg("ok1")]), inbox.store([bad]), inbox.store([msg("ok2")]),
                                    return_exceptions=True)
    assert outcomes[0] == [True] and outcomes[2] == [True]
    assert isinstance(outcomes[1], Exception)
    assert [r["message_id"] for r in rows(inbox, live_messages)] == ["ok1", "ok2"]


async def test_two_processes_racing_on_one_retry_store_and_report_it_once(inbox, tmp_path):
    other = Inbox(connect(tmp_path / "inbox.db"), ZONE)  # a second web process on the same database
    other.start()
    try:
        for n in range(20):
            outcomes = await asyncio.gather(inbox.store([msg(f"r{n}")]), other.store([msg(f"r{n}")]))
            assert sorted(outcomes) == [[False], [True]]
    finally:
        await other.close()
        other.db.dispose()
    assert len(rows(inbox, live_messages)) == 20


async def test_each_request_resolves_only_after_its_rows_are_committed(inbox, tmp_path):
    """What another process would read the moment a request is acknowledged: the message and its
    pending row, committed (group commit shares the transaction, never the acknowledgement)."""
    import sqlite3

    reader = sqlite3.connect(tmp_path / "inbox.db")

    async def post(n: int) -> tuple[int, int]:
        assert await inbox.store([msg(f"a{n}", user=f"u{n % 5}")]) == [True]
        key = ("telegram", "-100", f"a{n}")
        live = reader.execute("SELECT count(*) FROM live_messages WHERE platform=? AND chat_id=? AND message_id=?",
                              key).fetchone()[0]
        pending = reader.execute("SELECT count(*) FROM pending_work WHERE platform=? AND chat_id=? AND message_id=?",
                                 key).fetchone()[0]
        return live, pending

    try:
        assert await asyncio.gather(*(post(n) for n in range(200))) == [(1, 1)] * 200
    finally:
        reader.close()
    assert inbox.batches < 200


async def test_a_batch_past_one_statement_is_stored_once_and_its_pending_rows_go(inbox):
    """More rows than one multi-row statement takes (`batch_sql.CHUNK`), some of them already stored."""
    from bot.store import batch_sql
    from bot.store.schema import pending_work

    size = 2 * batch_sql.CHUNK + 37
    assert await inbox.store([msg(f"b{n}") for n in range(0, size, 3)]) == [True] * len(range(0, size, 3))
    outcome = await inbox.store([msg(f"b{n}") for n in range(size)])
    assert outcome == [n % 3 != 0 for n in range(size)]
    assert len(rows(inbox, live_messages)) == size and len(rows(inbox, pending_work)) == size
    for n in range(0, size, 2):
        inbox.finished(("telegram", "-100", f"b{n}"))
    await inbox.close()  # flushes the handled keys
    assert sorted(r["message_id"] for r in rows(inbox, pending_work)) == sorted(f"b{n}" for n in range(1, size, 2))


async def test_the_rows_written_are_the_message_and_its_pending_copy(inbox):
    """SQLite's batch statements get positional rows; they hold what the Core rows would."""
    from bot.store.inbox_rows import live_row
    from bot.store.schema import pending_work
    from bot.store.shared import message_from_json

    item = msg("p1", text="有人知道吗？", mentions=(Member("u2", "Bo"),), reply_to="p0")
    assert await inbox.store([item]) == [True]
    [live] = rows(inbox, live_messages)
    assert {k: v for k, v in live.items() if k != "id"} == live_row(item.message, live["group_id"], ZONE)
    [pending] = rows(inbox, pending_work)
    assert message_from_json(pending["payload"]) == item.message and pending["owner"] == inbox.owner
