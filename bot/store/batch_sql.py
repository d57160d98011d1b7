"""Multi-row SQLite statements for the inbox's group commit: one statement per table and batch.

Python's sqlite3 lets go of the GIL around every statement step, and the busy event loop takes
it each time; the writer thread then waits for it to come back, and the loop is interrupted to
hand it over. A batch written row by row (executemany, or INSERT ... RETURNING read row by row)
paid that switch two or three times per message, which cost the webhook more CPU than SQLite's
own work. Here a batch is a handful of statements, whatever its size:

- one INSERT for the live messages (ON CONFLICT DO NOTHING) and one for their pending rows; the
  INSERT's count of rows written tells whether every message was new (the usual case), so no
  statement is spent looking for keys already stored;
- only when some were not (a platform's retry): the write lock first (`BEGIN IMMEDIATE`), so that
  the keys found absent stay absent until the commit, even with another process writing to the
  same file, and one SELECT for the keys already stored;
- one DELETE for the pending rows of handled messages.

A statement's row count is rounded up to a power of two by repeating its last row (`_padded`):
sqlite3 keeps 128 prepared statements per connection, and a busy webhook's batches take every
size from 1 to a few dozen, so with one statement text per size most batches prepared their
statements again (a 30-row INSERT takes longer to prepare than to run). A repeated key is found
once and deleted once; an INSERT reads its rows through `LIMIT <the real count>`, so a repeated
row is never written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def _null(value: None) -> None:
    return value


# sqlite3 binds int, float and str parameters directly, but looks up an adapter for any other
# value, None included; for None that search ends in two failed attribute lookups on a class, each
# formatting an AttributeError text that is then thrown away (about 5,000 instructions per NULL in
# Python 3.11; a live row has three). With an adapter registered for None the lookup is one dict
# hit. It returns None unchanged, so every connection of the process binds NULL as before.
sqlite3.register_adapter(type(None), _null)

CHUNK = 512  # rows per statement (12 columns x 512 = 6,144 variables, far below SQLite's 32,766)

_KEY_JOIN = "m.platform = v.column1 AND m.chat_id = v.column2 AND m.message_id = v.column3"
_sql_cache: dict[tuple, str] = {}


def _values(width: int, rows: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return ", ".join([one] * rows)


def _sql(kind: str, table: str, columns: Sequence[str], rows: int) -> str:
    key = (kind, table, tuple(columns), rows)
    sql = _sql_cache.get(key)
    if sql is None:
        if kind == "insert":
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM (VALUES {_values(len(columns), rows)}) "
                   "WHERE true LIMIT ? ON CONFLICT DO NOTHING")  # WHERE: SQLite's rule for an upsert from a SELECT
        elif kind == "existing":
            sql = (f"SELECT v.column1, v.column2, v.column3 FROM (VALUES {_values(3, rows)}) AS v "
                   f"JOIN {table} AS m ON {_KEY_JOIN}")
        else:  # "delete": by rowid, found through the unique key's index
            sql = (f"DELETE FROM {table} WHERE rowid IN (SELECT m.rowid FROM (VALUES {_values(3, rows)}) AS v "
                   f"JOIN {table} AS m ON {_KEY_JOIN})")
        _sql_cache[key] = sql
    return sql


def _padded(rows: Sequence) -> list:
    """`rows` with its last row repeated up to the next power of two (see the module docstring)."""
    size = 1 << (len(rows) - 1).bit_length()
    return [*rows, *[rows[-1]] * (size - len(rows))]


def _chunks(rows: Sequence) -> list[list]:
    """At most `CHUNK` rows each, every one padded to a power of two."""
    return [_padded(rows[i:i + CHUNK]) for i in range(0, len(rows), CHUNK)]


def begin_immediate(cursor) -> None:
    """Take SQLite's write lock now (the driver would begin a deferred transaction)."""
    cursor.execute("BEGIN IMMEDIATE")


def existing_keys(cursor, table: str, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Which (platform, chat_id, message_id) keys `table` already holds."""
    found: set[tuple[str, str, str]] = set()
    for chunk in _chunks(keys):
        params = [value for key in chunk for value in key]
        found.update(cursor.execute(_sql("existing", table, (), len(chunk)), params).fetchall())
    return found


def insert_rows(cursor, table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING, one statement per `CHUNK` rows (the padding left out);
    returns how many rows were written (the others' keys were already there)."""
    written = 0
    for start in range(0, len(rows), CHUNK):
        real = rows[start:start + CHUNK]
        chunk = _padded(real)
        cursor.execute(_sql("insert", table, columns, len(chunk)),
                       [value for row in chunk for value in row] + [len(real)])
        written += cursor.rowcount
    return written


def delete_keys(cursor, table: str, keys: Sequence[tuple[str, str, str]]) -> None:
    """Delete the rows of `table` with these (platform, chat_id, message_id) keys."""
    for chunk in _chunks(keys):
        cursor.execute(_sql("delete", table, (), len(chunk)), [value for key in chunk for value in key])
