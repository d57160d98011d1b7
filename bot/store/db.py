"""Opening the database: one SQLAlchemy engine, SQLite tuned for one writer and many readers.

Everything else in the store is plain SQLAlchemy Core, so the same queries run on PostgreSQL.
Engines are synchronous; async code calls the store through `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.schema import CreateIndex

from bot.store.schema import LATER_INDEXES, metadata


# Hosting platforms hand out `postgres://` (and `postgresql://`) URLs; SQLAlchemy wants the driver.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
POSTGRES_DRIVER = "postgresql+psycopg://"


def database_url(value: str | Path) -> str:
    """Accept a database URL or a plain file path (taken as SQLite); postgres:// gets the driver."""
    text = str(value).strip()
    if not text:
        raise ValueError("the database URL is empty")
    for scheme in _POSTGRES_SCHEMES:
        if text.startswith(scheme):
            return POSTGRES_DRIVER + text[len(scheme):]
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser()}"


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # several processes (web + clock) share one file
    cursor.close()


def connect(url: str | Path, create: bool = True) -> Engine:
    """An engine for the URL, with the schema created when missing."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).parent.is_dir():
            # Never create folders: a typo in --db must not leave a stray database somewhere.
            raise FileNotFoundError(f"database folder {Path(path).parent} does not exist")
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if create:
        metadata.create_all(engine)
        create_later_indexes(engine)
    return engine


def create_later_indexes(engine: Engine) -> None:
    """Create the indexes added to existing tables (`LATER_INDEXES`) where a store lacks them
    (looked up first: on PostgreSQL even CREATE INDEX IF NOT EXISTS locks the table's writers)."""
    later = [index for table in metadata.sorted_tables for index in table.indexes if index.name in LATER_INDEXES]
    with engine.begin() as conn:
        inspector = inspect(conn)
        for index in later:
            if not inspector.has_index(index.table.name, index.name):
                conn.execute(CreateIndex(index, if_not_exists=True))  # IF NOT EXISTS: two processes may start at once


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(db: Engine) -> contextlib.AbstractContextManager:
    """One SQLite write transaction at a time within this process.

    Two connections writing at once make SQLite's busy handler put the second to sleep in growing
    steps (up to 100 ms each), which showed as webhook acknowledgements taking seconds while
    answers were being sent; a thread waiting for this lock instead wakes the moment the other
    write commits. Other processes still meet SQLite's busy timeout. PostgreSQL locks rows itself.
    """
    if db.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(db)
        if lock is None:
            lock = _WRITE_LOCKS[db] = threading.Lock()
    return lock


@contextlib.contextmanager
def writing(db: Engine) -> Iterator[Connection]:
    """`db.begin()` under the process's write lock: for writes on the webhook's hot path."""
    with write_lock(db), db.begin() as conn:
        yield conn
