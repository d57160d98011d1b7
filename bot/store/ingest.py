"""Incremental, idempotent ingest of day files into the store.

A day is keyed by (group, date) and remembers the hash of what it was read from: an unchanged
file is skipped before it is even parsed, a changed one replaces its day's messages (delete and
insert in the same transaction). Parsing runs in a small process pool on large folders, while the
main process writes batches of days per transaction; a bad file is reported and every good one
still goes in. `IngestReport.changed` tells the answer engine which days to re-index.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, delete, false, insert, select, update

from bot.archive.model import Day, DayKey
from bot.archive.reader import DAY_FILE, ArchiveError, ReadOptions, Record, decode, find_day_files, parse_records
from bot.archive.writer import render_day
from bot.store.archive_members import merge_members, recompute_members
from bot.store.schema import days, groups, message_links, messages

BATCH_MESSAGES = 20_000  # messages written per transaction
POOL_MIN_BYTES = 8 << 20  # below ~50,000 messages, parsing in-process beats starting workers (~0.5 s)

_MESSAGE_KEYS = ("seq", "ts", "speaker", "text", "kind", "mentions", "image_url", "line")
_ROW_KEYS = ("day_id", *_MESSAGE_KEYS)
_QMARK_INSERT = f"INSERT INTO messages ({', '.join(_ROW_KEYS)}) VALUES ({', '.join('?' * len(_ROW_KEYS))})"


class Status(str, enum.Enum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(slots=True)
class FileResult:
    path: str
    group: str
    status: Status
    date: str | None = None
    messages: int = 0
    error: ArchiveError | None = None


@dataclass(slots=True)
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for result in self.files if result.status is status)

    @property
    def messages(self) -> int:
        """Messages written by this run (added or replaced days)."""
        return sum(r.messages for r in self.files if r.status in (Status.ADDED, Status.REPLACED))

    @property
    def errors(self) -> list[ArchiveError]:
        return [r.error for r in self.files if r.error is not None]

    @property
    def changed(self) -> list[DayKey]:
        """Days whose messages this run added or replaced: what an index must rebuild."""
        return [DayKey(r.group, r.date) for r in self.files
                if r.status in (Status.ADDED, Status.REPLACED) and r.date]

    @property
    def ok(self) -> bool:
        return not any(r.status is Status.FAILED for r in self.files)


@dataclass(slots=True)
class _Prepared:
    """A parsed day reduced to plain rows, cheap to send back from a worker process."""

    group: str
    path: str
    content_hash: str
    date: str | None = None
    meta: dict | None = None
    rows: list[tuple] | None = None  # in _MESSAGE_KEYS order
    links: list[tuple] | None = None  # (seq, message id, reply_to) of the messages that have links
    error: ArchiveError | None = None
    skipped: bool = False  # hash matched the stored day: not parsed


def hash_content(raw: bytes, options: ReadOptions) -> str:
    """Hash of a day's file bytes plus the options that change what is stored from them."""
    digest = hashlib.sha256(f"{options.timezone}\0{options.owner_name}\0".encode())
    digest.update(raw)
    return digest.hexdigest()


def day_rows(day: Day) -> list[tuple]:
    return [(seq, int(m.time.timestamp()), m.speaker, m.text, m.kind.value, _json_list(m.mentions), m.image_url, m.line)
            for seq, m in enumerate(day.messages)]


def day_links(messages: Iterable) -> list[tuple]:
    """(seq, id, reply_to) of the messages (or records) that carry reply links."""
    return [(seq, m.id, m.reply_to) for seq, m in enumerate(messages) if m.id is not None or m.reply_to is not None]


def record_rows(date: dt.date, records: list[Record], zone: ZoneInfo) -> list[tuple]:
    """Rows straight from parsed records (the bulk path: no Message or datetime per message)."""
    midnight = dt.datetime.combine(date, dt.time(), tzinfo=zone)
    if midnight.utcoffset() == midnight.replace(hour=23, minute=59, second=59).utcoffset():
        base = int(midnight.timestamp())  # no clock change today: seconds since midnight suffice

        def epoch(r: Record) -> int:
            return base + r.hour * 3600 + r.minute * 60 + r.second
    else:
        def epoch(r: Record) -> int:
            return int(dt.datetime.combine(date, dt.time(r.hour, r.minute, r.second), tzinfo=zone).timestamp())
    return [(seq, epoch(r), r.speaker, r.text, r.kind.value, _json_list(r.mentions), r.image_url, r.line)
            for seq, r in enumerate(records)]


def _json_list(items: tuple[str, ...]) -> str | None:
    """A JSON array of strings (json.dumps is 4x slower on these tiny lists); None when empty."""
    return f"[{','.join(map(encode_basestring, items))}]" if items else None


def day_meta(day: Day) -> dict:
    return {"title": day.title, "author": day.author, "declared_lines": day.declared_lines, "source": day.source}


def _unchanged(group: str, path: Path, known_hash: str | None, options: ReadOptions) -> _Prepared | None:
    """A skipped result when the file's hash equals the stored day's, else None (parse it)."""
    if known_hash is None:
        return None
    try:
        digest = hash_content(path.read_bytes(), options)
    except OSError:
        return None  # the parse reports it
    return _Prepared(group, str(path), digest, skipped=True) if digest == known_hash else None


def _prepare(group: str, path: str, options: ReadOptions) -> _Prepared:
    """Read, hash and parse one file into rows. Runs in worker processes on large runs."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return _Prepared(group, path, "", error=ArchiveError(path, None, f"cannot read: {exc.strerror or exc}"))
    digest = hash_content(raw, options)
    try:
        day, records = parse_records(path, decode(path, raw), group, options)
    except ArchiveError as exc:
        return _Prepared(group, path, digest, error=exc)
    rows = record_rows(day.date, records, ZoneInfo(options.timezone))
    return _Prepared(group, path, digest, day.date.isoformat(), day_meta(day), rows, day_links(records))


def _prepare_job(job: tuple[str, str, ReadOptions]) -> _Prepared:
    return _prepare(*job)


class _Writer:
    """Collects prepared days and writes them in batches, one transaction per batch."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.hashes: dict[tuple[str, str], str] = {}
        self.group_ids: dict[str, int] = {}
        self.replaced_groups: set[int] = set()
        self.pending: list[_Prepared] = []
        self.pending_messages = 0
        with engine.connect() as conn:
            self.group_ids = {name: gid for name, gid in conn.execute(select(groups.c.name, groups.c.id))}
            names = {gid: name for name, gid in self.group_ids.items()}
            for gid, date, digest in conn.execute(select(days.c.group_id, days.c.date, days.c.content_hash)):
                self.hashes[(names[gid], date)] = digest

    def known_hash(self, group: str, path: Path) -> str | None:
        named = DAY_FILE.match(path.name)
        return self.hashes.get((group, named.group(1))) if named else None

    def add(self, prepared: _Prepared) -> FileResult:
        result = FileResult(prepared.path, prepared.group, Status.UNCHANGED, prepared.date)
        if prepared.error is not None:
            result.status, result.error = Status.FAILED, prepared.error
            return result
        if prepared.skipped:
            named = DAY_FILE.match(Path(prepared.path).name)
            result.date = named.group(1) if named else None
            return result
        key = (prepared.group, prepared.date)
        previous = self.hashes.get(key)
        result.messages = len(prepared.rows)
        if previous == prepared.content_hash:
            return result
        result.status = Status.ADDED if previous is None else Status.REPLACED
        self.hashes[key] = prepared.content_hash
        self.pending.append(prepared)
        self.pending_messages += len(prepared.rows)
        if self.pending_messages >= BATCH_MESSAGES:
            self.flush()
        return result

    def flush(self) -> None:
        if self.pending:
            with self.engine.begin() as conn:
                self.replaced_groups |= _write_days(conn, self.pending, self.group_ids)
            self.pending, self.pending_messages = [], 0

    def finish(self) -> None:
        self.flush()
        if self.replaced_groups:
            with self.engine.begin() as conn:
                _take_write_lock(conn)
                for group_id in sorted(self.replaced_groups):
                    recompute_members(conn, group_id)


def _write_days(conn: Connection, batch: list[_Prepared], group_ids: dict[str, int]) -> set[int]:
    """Insert or replace each day and its messages; returns the groups that had a day replaced.

    A handful of statements per batch, not per day: per-statement overhead dominated otherwise.
    """
    _take_write_lock(conn)
    now = int(time.time())
    by_key = {(_group_id(conn, p.group, group_ids), p.date): p for p in batch}  # a later file of a day wins
    day_ids = _day_ids(conn, by_key)
    replaced = {group_id for group_id, _ in day_ids}
    if day_ids:
        conn.execute(delete(messages).where(messages.c.day_id.in_(list(day_ids.values()))))
        conn.execute(delete(message_links).where(message_links.c.day_id.in_(list(day_ids.values()))))
        conn.execute(update(days).where(days.c.id == bindparam("day_id")).values(
            {name: bindparam(f"v_{name}") for name in _DAY_VALUES}),
            [{"day_id": day_ids[key], **{f"v_{k}": v for k, v in _day_values(p, now).items()}}
             for key, p in by_key.items() if key in day_ids])
    new = [{"group_id": key[0], "date": key[1], **_day_values(p, now)} for key, p in by_key.items() if key not in day_ids]
    if new:
        conn.execute(insert(days), new)
        day_ids = _day_ids(conn, by_key)
    rows: list[tuple] = []
    seen: dict[tuple[int, str], list[int]] = {}
    for key, prepared in by_key.items():
        day_id, group_id = day_ids[key], key[0]
        for row in prepared.rows:
            rows.append((day_id, *row))
            span = seen.get((group_id, row[2]))
            if span is None:
                seen[(group_id, row[2])] = [row[1], row[1]]
            elif row[1] < span[0]:
                span[0] = row[1]
            elif row[1] > span[1]:
                span[1] = row[1]
    if rows:
        _insert_messages(conn, rows)
    links = [{"day_id": day_ids[key], "seq": seq, "message_id": message_id, "reply_to": reply_to}
             for key, prepared in by_key.items() for seq, message_id, reply_to in prepared.links or ()]
    if links:
        conn.execute(insert(message_links), links)
    merge_members(conn, seen)
    return replaced


_DAY_VALUES = ("title", "author", "declared_lines", "source", "content_hash", "message_count", "ingested_ts")


def _day_values(prepared: _Prepared, now: int) -> dict:
    return dict(prepared.meta, content_hash=prepared.content_hash, message_count=len(prepared.rows), ingested_ts=now)


def _day_ids(conn: Connection, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Stored day ids of the (group id, date) keys that exist."""
    keys = set(keys)
    query = select(days.c.group_id, days.c.date, days.c.id).where(
        days.c.group_id.in_(sorted({g for g, _ in keys})), days.c.date.in_(sorted({d for _, d in keys})))
    return {(g, d): i for g, d, i in conn.execute(query) if (g, d) in keys}


def _insert_messages(conn: Connection, rows: list[tuple]) -> None:
    """The hot insert. On positional-parameter drivers (sqlite3) the tuples go straight to the
    driver's executemany, which halves the cost per row; elsewhere it is a plain Core insert."""
    if conn.dialect.paramstyle == "qmark":
        conn.exec_driver_sql(_QMARK_INSERT, rows)
    else:
        conn.execute(insert(messages), [dict(zip(_ROW_KEYS, row), mentions=json.loads(row[6]) if row[6] else None)
                                        for row in rows])


def _take_write_lock(conn: Connection) -> None:
    """Start the transaction with a (no-op) write so SQLite takes its write lock now.

    The sqlite3 driver begins transactions lazily at the first write, so the reads that decide
    "insert or replace" would otherwise see a state another writer (a second ingest, the webhook
    inbox creating a group) can change before our inserts. No-op on other databases.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(update(groups).where(false()).values(name=groups.c.name))


def _group_id(conn: Connection, name: str, cache: dict[str, int]) -> int:
    """The group's id, creating the group when new (the inbox may create groups concurrently)."""
    if name not in cache:
        found = conn.execute(select(groups.c.id).where(groups.c.name == name)).scalar()
        if found is None:
            found = conn.execute(insert(groups).values(name=name)).inserted_primary_key[0]
        cache[name] = found
    return cache[name]


def ingest_paths(engine: Engine, paths: Iterable[str | Path], options: ReadOptions = ReadOptions(),
                 progress: Callable[[FileResult], None] | None = None, workers: int | None = None) -> IngestReport:
    """Ingest every day file under the paths; bad files are reported, good ones still go in.

    `progress` is called once per file, in order. `workers` parse in processes (default: up to
    two when there are many megabytes to parse; 0 or 1 parses in this process).
    """
    started = time.perf_counter()
    report = IngestReport()
    found: list[tuple[str, Path]] = []
    for path in paths:
        try:
            files = find_day_files([path])
            if not files:
                raise ArchiveError(path, None, "no day files (YYYY-MM-DD-chat.markdown) in this folder or its subfolders")
        except ArchiveError as exc:
            report.files.append(FileResult(str(path), "", Status.FAILED, error=exc))
            if progress:
                progress(report.files[-1])
            continue
        found.extend(files)
    writer = _Writer(engine)
    # Hash every file first (cheap): unchanged ones are done, only the rest is worth a pool.
    first_pass: list[_Prepared | None] = []
    jobs, size = [], 0
    for group, path in found:
        unchanged = _unchanged(group, path, writer.known_hash(group, path), options)
        first_pass.append(unchanged)
        if unchanged is None:
            jobs.append((group, str(path), options))
            size += path.stat().st_size if path.exists() else 0
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if size >= POOL_MIN_BYTES else 0
    parsed = _prepared(jobs, workers)
    for unchanged in first_pass:
        result = writer.add(unchanged if unchanged is not None else next(parsed))
        report.files.append(result)
        if progress:
            progress(result)
    writer.finish()
    report.seconds = time.perf_counter() - started
    return report


def _prepared(jobs: list[tuple], workers: int) -> Iterable[_Prepared]:
    """Prepared days in job order; a bounded window of jobs in flight keeps memory flat."""
    if workers <= 1:
        yield from map(_prepare_job, jobs)
        return
    # spawn, not fork: callers may run threads (the server calls the store from a thread pool).
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        window: deque[Future] = deque()
        for job in jobs:
            window.append(pool.submit(_prepare_job, job))
            if len(window) >= workers * 8:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def ingest_day(target: Engine | Connection, day: Day, content_hash: str | None = None,
               options: ReadOptions = ReadOptions()) -> Status:
    """Store one Day (the nightly publication's freshly written day).

    Without `content_hash` the rendered file's hash is used, so a later folder ingest of the file
    that `write_day` wrote for this day finds it unchanged.
    """
    if isinstance(target, Engine):
        with target.begin() as conn:
            return ingest_day(conn, day, content_hash, options)
    digest = content_hash or hash_content(render_day(day).encode("utf-8"), options)
    date = day.date.isoformat()
    previous = target.execute(select(days.c.content_hash).join(groups, groups.c.id == days.c.group_id)
                              .where(groups.c.name == day.group, days.c.date == date)).scalar()
    if previous == digest:
        return Status.UNCHANGED
    prepared = _Prepared(day.group, day.source or "", digest, date, day_meta(day), day_rows(day),
                         day_links(day.messages))
    for group_id in _write_days(target, [prepared], {}):
        recompute_members(target, group_id)
    return Status.ADDED if previous is None else Status.REPLACED
