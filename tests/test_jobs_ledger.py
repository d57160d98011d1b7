"""The job ledger on a real SQLite file: claim once, release on failure, stale claims are visible."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import insert, select

from bot.store import ledger
from bot.store import connect
from bot.store.schema import groups

KEY = ledger.RunKey("digest", "telegram:-1", "2024-06-01")


@pytest.fixture
def db(tmp_path):
    engine = connect(tmp_path / "ledger.db")
    yield engine
    engine.dispose()


def group_names(db) -> list[str]:
    with db.connect() as conn:
        return [name for (name,) in conn.execute(select(groups.c.name))]


def test_a_period_is_claimed_once(db):
    assert ledger.claim(db, KEY, "text", 100, runner="a")
    assert not ledger.claim(db, KEY, "text", 101, runner="b")
    assert ledger.status(db, KEY) == "sending"
    ledger.mark_delivered(db, KEY, 102, ("m1", "m2"))
    (row,) = ledger.runs(db)
    assert (row["status"], row["runner"], row["delivered_ts"], row["message_ids"]) == ("delivered", "a", 102, ["m1", "m2"])
    assert ledger.claim(db, ledger.RunKey("digest", "telegram:-1", "2024-06-02"), "t", 200)


def test_on_claim_runs_in_the_claim_transaction(db):
    def side(conn):
        conn.execute(insert(groups).values(name="claimed"))

    assert ledger.claim(db, KEY, "t", 1, on_claim=side)
    assert not ledger.claim(db, KEY, "t", 2, on_claim=lambda conn: conn.execute(insert(groups).values(name="lost")))
    assert group_names(db) == ["claimed"]  # the losing claim's side effect was rolled back


def test_release_lets_the_next_run_claim_again_and_undoes_side_effects(db):
    ledger.claim(db, KEY, "t", 1, on_claim=lambda conn: conn.execute(insert(groups).values(name="x")))
    ledger.release(db, KEY, on_release=lambda conn: conn.execute(groups.delete().where(groups.c.name == "x")))
    assert ledger.status(db, KEY) is None and group_names(db) == []
    assert ledger.claim(db, KEY, "t", 2)


def test_a_claim_that_never_finished_is_listed_as_stale(db):
    ledger.claim(db, KEY, "t", 100)
    assert [r["period"] for r in ledger.stale(db, older_than_ts=200)] == ["2024-06-01"]
    assert ledger.stale(db, older_than_ts=50) == []
    ledger.mark_delivered(db, KEY, 150)
    assert ledger.stale(db, older_than_ts=200) == []


def test_two_engines_racing_in_threads_claim_once(tmp_path):
    engines = [connect(tmp_path / "race.db") for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(engines))

    def race(engine):
        barrier.wait()
        results.append(ledger.claim(engine, KEY, "t", 1))

    threads = [threading.Thread(target=race, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    for engine in engines:
        engine.dispose()
