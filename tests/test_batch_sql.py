"""The inbox's multi-row SQLite statements: exact for every batch size, few statement texts."""

from __future__ import annotations

import sqlite3

from bot.store import batch_sql

COLUMNS = ("platform", "chat_id", "message_id", "text")


def _table(tmp_path) -> sqlite3.Connection:
    con = sqlite3.connect(tmp_path / "batch.db", isolation_level=None)
    # No unique key: a padded row that reached the table would show up as a second copy.
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, platform TEXT, chat_id TEXT, message_id TEXT, text TEXT)")
    return con


def test_every_batch_size_inserts_finds_and_deletes_exactly_its_rows(tmp_path):
    con = _table(tmp_path)
    cursor = con.cursor()
    for size in [*range(1, 70), 511, 512, 513, 1100]:
        rows = [("telegram", "-100", f"{size}:{n}", f"text {n}") for n in range(size)]
        batch_sql.insert_rows(cursor, "t", COLUMNS, rows)
        stored = con.execute("SELECT platform, chat_id, message_id, text FROM t WHERE message_id LIKE ? ORDER BY id",
                             (f"{size}:%",)).fetchall()
        assert stored == rows  # in order, once each, nothing repeated
        keys = [row[:3] for row in rows]
        assert batch_sql.existing_keys(cursor, "t", [*keys, ("telegram", "-100", "absent")]) == set(keys)
        batch_sql.delete_keys(cursor, "t", keys[:size // 2])
        assert batch_sql.existing_keys(cursor, "t", keys) == set(keys[size // 2:])


def test_batches_of_any_size_share_a_few_statement_texts(tmp_path):
    """sqlite3 keeps 128 prepared statements per connection: one text per batch size would
    prepare most of a busy webhook's statements again."""
    con = _table(tmp_path)
    cursor = con.cursor()
    batch_sql._sql_cache.clear()
    for size in range(1, 200):
        rows = [("slack", "C1", f"{size}:{n}", "x") for n in range(size)]
        batch_sql.insert_rows(cursor, "t", COLUMNS, rows)
        batch_sql.existing_keys(cursor, "t", [row[:3] for row in rows])
        batch_sql.delete_keys(cursor, "t", [row[:3] for row in rows])
    by_kind: dict[str, int] = {}
    for kind, *_ in batch_sql._sql_cache:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    assert by_kind == {"insert": 9, "existing": 9, "delete": 9}  # 1, 2, 4, ... 256 rows


def test_null_parameters_are_bound_as_null_through_the_registered_adapter(tmp_path):
    """None goes through the adapter batch_sql registers (a dict hit, not sqlite3's failing search)."""
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
    con = _table(tmp_path)
    batch_sql.insert_rows(con.cursor(), "t", COLUMNS, [("telegram", "-100", "1", None), ("telegram", "-100", "2", "x")])
    assert con.execute("SELECT message_id, text IS NULL FROM t ORDER BY id").fetchall() == [("1", 1), ("2", 0)]
