"""Pruning the shared limits' rows (bot/store/limits_pruning.py) on SQLite and PostgreSQL: what
the reply limit, a resumed handling and the cool-down still read survives, the rest goes; every
statement finds its rows through an index; a store made before the pruning indexes gets them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, inspect, select, text

from bot.chat import Incoming, Member
from bot.store import connect
from bot.store.limits_pruning import Pruned, prune_limits
from bot.store.schema import LATER_INDEXES, answered_questions, chat_replies, pending_work
from bot.store.shared import Limits, pending_row

NOW = 1_800_000_000.0
COOLDOWN = 600
CHAT = ("telegram", "-100")


@pytest.fixture
def db(store_url):
    engine = connect(store_url)
    yield engine
    engine.dispose()


def pending(db, platform: str, chat_id: str, message_id: str) -> None:
    """A message still waiting to be handled, written as the inbox writes it."""
    m = Incoming(platform, chat_id, message_id, Member("7", "王五-丙支付-运营-深圳"), "请问怎么开户？",
                 dt.datetime.fromtimestamp(NOW, dt.timezone.utc))
    with db.begin() as conn:
        conn.execute(pending_work.insert().values(**pending_row(m, "127.0.0.1:8080#1.1", int(NOW))))


def sent(limits: Limits, chat, at: float, reply_key: str | None = None) -> int:
    slot = limits.reserve_reply(chat, at)
    assert slot is not None
    if reply_key is not None:
        limits.mark_sent(slot, reply_key)
    return slot


def remaining(db, table) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_what_the_limits_still_read_survives_and_the_rest_goes(db):
    limits = Limits(db, replies_per_minute=100, cooldown_seconds=COOLDOWN)
    old_bare = sent(limits, CHAT, NOW - 61)
    recent_bare = sent(limits, CHAT, NOW - 30)
    sent(limits, CHAT, NOW - 7200, "telegram:-100:m1:0")  # handled long ago: goes
    sent(limits, CHAT, NOW - 7200, "telegram:-100:m2:0")  # its message is still pending: stays
    sent(limits, CHAT, NOW - 7200, "telegram:-100:m2:1")
    sent(limits, ("bridge", "room:a"), NOW - 7200, "bridge:room:a:7:0")  # a chat id with a colon, pending
    sent(limits, ("bridge", "room"), NOW - 7200, "bridge:room:a:70:0")  # not pending ("room:a:70" is not)
    sent(limits, ("telegram", "-200"), NOW - 7200, "telegram:-100:m3:0")  # sent to an admin chat, pending
    sent(limits, CHAT, NOW - 1800, "telegram:-100:m4:0")  # handled, but within the hour: stays
    pending(db, "telegram", "-100", "m2")
    pending(db, "bridge", "room:a", "7")
    pending(db, "telegram", "-100", "m3")
    assert limits.first_time(CHAT, "怎么开户", NOW - COOLDOWN - 1)  # expired: goes
    assert limits.first_time(CHAT, "备付金利息归谁", NOW - 100)  # still cooling down: stays
    assert limits.first_time(("slack", "C1"), "怎么开户", NOW - COOLDOWN + 1)  # stays

    assert prune_limits(db, NOW, COOLDOWN) == Pruned(replies=1, keyed_replies=2, cooldowns=1)

    with db.connect() as conn:
        bare = set(conn.execute(select(chat_replies.c.id).where(chat_replies.c.reply_key.is_(None))).scalars())
    assert recent_bare in bare and old_bare not in bare
    assert not limits.already_sent("telegram:-100:m1:0") and not limits.already_sent("bridge:room:a:70:0")
    for key in ("telegram:-100:m2:0", "telegram:-100:m2:1", "bridge:room:a:7:0", "telegram:-100:m3:0",
                "telegram:-100:m4:0"):
        assert limits.already_sent(key), key  # a resumed handling still skips these
    assert remaining(db, chat_replies) == 6 and remaining(db, answered_questions) == 2
    assert not limits.first_time(CHAT, "备付金利息归谁", NOW)  # the running cool-downs still hold
    assert not limits.first_time(("slack", "C1"), "怎么开户", NOW)
    assert limits.first_time(CHAT, "怎么开户", NOW)
    assert prune_limits(db, NOW, COOLDOWN) == Pruned(0, 0, 0)  # a second run (or process) finds nothing


def test_the_reply_limit_counts_the_same_minute_after_pruning(db):
    limits = Limits(db, replies_per_minute=3, cooldown_seconds=COOLDOWN)
    for at in (NOW - 90, NOW - 70, NOW - 50, NOW - 20):
        sent(limits, CHAT, at)
    assert prune_limits(db, NOW, COOLDOWN).replies == 2
    assert limits.reserve_reply(CHAT, NOW) is not None  # two in the minute, a third fits
    assert limits.reserve_reply(CHAT, NOW) is None


def test_batches_pass_kept_rows_and_rows_of_one_millisecond(db):
    limits = Limits(db, replies_per_minute=1000, cooldown_seconds=COOLDOWN)
    for n in range(5):  # the oldest keyed rows all stay (pending): more than a batch of them
        sent(limits, CHAT, NOW - 9000 + n, f"telegram:-100:p{n}:0")
        pending(db, "telegram", "-100", f"p{n}")
    for n in range(7):
        sent(limits, CHAT, NOW - 8000 + n // 3, f"telegram:-100:h{n}:0")  # three share each millisecond
        sent(limits, CHAT, NOW - 120)
    for n in range(8):
        limits.first_time(CHAT, f"question {n}", NOW - 5000)  # one millisecond, more than a batch
    assert prune_limits(db, NOW, COOLDOWN, batch=2) == Pruned(replies=7, keyed_replies=7, cooldowns=8)
    assert remaining(db, chat_replies) == 5


def test_every_pruning_statement_finds_its_rows_through_an_index(tmp_path):
    db = connect(tmp_path / "bot.db")
    limits = Limits(db, replies_per_minute=100, cooldown_seconds=COOLDOWN)
    sent(limits, CHAT, NOW - 7200, "telegram:-100:m1:0")
    sent(limits, CHAT, NOW - 120)
    limits.first_time(CHAT, "怎么开户", NOW - 5000)
    statements: list[tuple[str, tuple]] = []

    @event.listens_for(db, "before_cursor_execute")
    def keep(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    prune_limits(db, NOW, COOLDOWN, batch=2)
    plans = []
    with db.connect() as conn:
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith(("SELECT", "DELETE")) and "pending_work" not in statement:
                plans.append((statement, [row[-1] for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters)]))
    assert len(plans) >= 6  # edge + delete for each kind, the keyed rows' read and delete
    for statement, plan in plans:
        assert all(step.startswith("SEARCH") for step in plan if "chat_replies" in step or
                   "answered_questions" in step), (statement, plan)
    db.dispose()


def test_a_store_made_before_the_pruning_indexes_gets_them(store_url):
    db = connect(store_url)
    with db.begin() as conn:
        for name in LATER_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
    db.dispose()
    db = connect(store_url)
    inspector = inspect(db)
    assert {index["name"] for index in inspector.get_indexes("chat_replies")} >= {"ix_chat_replies_ts"}
    assert {index["name"] for index in inspector.get_indexes("answered_questions")} >= {"ix_answered_questions_ts"}
    connect(store_url).dispose()  # and a store that has them is left as it is
    db.dispose()
