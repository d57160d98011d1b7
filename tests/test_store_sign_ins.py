"""The record of failed sign-ins (bot/store/sign_ins.py) and the throttle's policy over it, on
SQLite and PostgreSQL: what counts, when an address may try again, and the pruning that keeps
the table bounded whatever an attacker does."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect

from bot.store import connect, sign_ins
from bot.web.auth import LoginThrottle


@pytest.fixture
def db(store_url):
    engine = connect(store_url)
    yield engine
    engine.dispose()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_retry_after_counts_failures_within_the_window(db):
    clock = Clock(1_800_000_000.0)
    throttle = LoginThrottle(attempts=3, window=60, clock=clock)
    assert throttle.standing(db, "198.51.100.7") == (0.0, False)
    throttle.failed(db, "198.51.100.7")
    for _ in range(2):  # failures at t, t+10, t+20
        clock.now += 10
        throttle.failed(db, "198.51.100.7")
    wait, failed = throttle.standing(db, "198.51.100.7")
    assert failed and wait == pytest.approx(40.0)  # the first failure leaves the window 60 s after it
    assert throttle.standing(db, "198.51.100.8") == (0.0, False)  # another address is not throttled
    clock.now += 40.001
    wait, failed = throttle.standing(db, "198.51.100.7")
    assert wait == 0.0 and failed  # two failures still count
    throttle.succeeded(db, "198.51.100.7")
    assert throttle.standing(db, "198.51.100.7") == (0.0, False)


def test_a_failure_prunes_what_no_longer_counts(db):
    sign_ins.record_failure(db, "203.0.113.1", now_ms=1_000, forget_until_ms=0)
    sign_ins.record_failure(db, "203.0.113.2", now_ms=2_000, forget_until_ms=0)
    assert sign_ins.count(db) == 2
    sign_ins.record_failure(db, "203.0.113.3", now_ms=70_000, forget_until_ms=10_000)
    assert sign_ins.count(db) == 1  # both older failures were past the window
    assert sign_ins.recent_failures(db, "203.0.113.3", 0, 5) == [70_000]


def test_rotating_addresses_cannot_grow_the_table_past_its_bound(db):
    for n in range(12):  # all within the window: only the row bound prunes them
        sign_ins.record_failure(db, f"2001:db8::{n}", now_ms=1_000 + n, forget_until_ms=0, keep=5)
    assert sign_ins.count(db) == 5
    assert sign_ins.recent_failures(db, "2001:db8::11", 0, 5) == [1_011]  # the newest are kept
    assert sign_ins.recent_failures(db, "2001:db8::0", 0, 5) == []


def test_addresses_are_kept_as_given_up_to_a_bound(db):
    long = "x" * 5_000 + "\u00e9"
    sign_ins.record_failure(db, long, now_ms=5_000, forget_until_ms=0)
    assert sign_ins.recent_failures(db, long, 0, 5) == [5_000]  # the same cut finds it again
    assert sign_ins.recent_failures(db, long[:sign_ins.ADDRESS_CHARS], 0, 5) == [5_000]
    sign_ins.forget(db, long)
    assert sign_ins.count(db) == 0


def test_recent_failures_are_newest_first_and_limited(db):
    for ts in (1_000, 3_000, 2_000, 4_000):
        sign_ins.record_failure(db, "192.0.2.9", now_ms=ts, forget_until_ms=0)
    assert sign_ins.recent_failures(db, "192.0.2.9", 1_500, 2) == [4_000, 3_000]
    assert sign_ins.recent_failures(db, "192.0.2.9", 1_000, 9) == [4_000, 3_000, 2_000]  # after, not at


def test_a_store_made_before_the_table_gains_it(tmp_path):
    path = tmp_path / "old.db"
    connect(path).dispose()
    with sqlite3.connect(path) as old:  # as an earlier version left it
        old.execute("DROP TABLE failed_sign_ins")
    db = connect(path)
    assert {"failed_sign_ins"} <= set(inspect(db).get_table_names())
    assert {"ix_failed_sign_ins_address_ts", "ix_failed_sign_ins_ts"} <= {
        ix["name"] for ix in inspect(db).get_indexes("failed_sign_ins")}
    sign_ins.record_failure(db, "192.0.2.1", now_ms=1, forget_until_ms=0)
    assert sign_ins.count(db) == 1
    db.dispose()


def test_the_check_is_one_indexed_query(tmp_path):
    db = connect(tmp_path / "bot.db")
    sql = str(sign_ins.RECENT.compile(db))
    with db.connect() as conn:
        plan = " ".join(row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, ("192.0.2.1", 0, 5, 0)).all())
    assert "USING COVERING INDEX ix_failed_sign_ins_address_ts (address=? AND ts>?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort
    db.dispose()
