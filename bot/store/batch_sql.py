"""Multi-row SQLite statements for the inbox's group commit: one statement per table and batch.

Python's sqlite3 lets go of the GIL around every statement step, and the busy event loop takes
it each time; the writer thread then waits for it to come back, and the loop is interrupted to
hand it over. A batch written row by row (executemany, or INSERT ... RETURNING read row by row)
paid that switch two or three times per message, which cost the webhook more CPU than SQLite's
own work. Here a batch is a handful of statements, whatever its size:

- the write lock first (`BEGIN IMMEDIATE`), so that the keys found absent below stay absent until
  the commit, even with another process writing to the same file;
- one SELECT for the keys already stored (usually none: one step);
- one INSERT for the live messages and one for their pending rows;
- one DELETE for the pending rows of handled messages.
"""

from __future__ import annotations

from collections.abc import Sequence

CHUNK = 500  # rows per statement (12 columns x 500 = 6,000 variables, far below SQLite's 32,766)

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
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_values(len(columns), rows)} "
                   "ON CONFLICT DO NOTHING")
        elif kind == "existing":
            sql = (f"SELECT v.column1, v.column2, v.column3 FROM (VALUES {_values(3, rows)}) AS v "
                   f"JOIN {table} AS m ON {_KEY_JOIN}")
        else:  # "delete": by rowid, found through the unique key's index
            sql = (f"DELETE FROM {table} WHERE rowid IN (SELECT m.rowid FROM (VALUES {_values(3, rows)}) AS v "
                   f"JOIN {table} AS m ON {_KEY_JOIN})")
        _sql_cache[key] = sql
    return sql


def _chunks(rows: Sequence) -> list[Sequence]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]


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


def insert_rows(cursor, table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING, one statement per `CHUNK` rows."""
    for chunk in _chunks(rows):
        cursor.execute(_sql("insert", table, columns, len(chunk)), [value for row in chunk for value in row])


def delete_keys(cursor, table: str, keys: Sequence[tuple[str, str, str]]) -> None:
    """Delete the rows of `table` with these (platform, chat_id, message_id) keys."""
    for chunk in _chunks(keys):
        cursor.execute(_sql("delete", table, (), len(chunk)), [value for key in chunk for value in key])
