"""Replaying an archived day through the bot as if it were live (`archive-bot replay`).

Each message of the day is stored through the real inbox and dispatched through the real router
(every handler module), with the Services clock set to the message's time; the scheduled jobs
whose time falls within the day (nickname reminder, digest, rules post) run when the replay
clock passes them. Outbound messages go to a recording sink instead of a platform, so nothing
touches the network, and the store is a throwaway SQLite file. The answer engine is built only
from archived days BEFORE the replayed one, as it would have been on that day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.archive.model import Day, MessageKind
from bot.chat import Incoming, Member, Outgoing, Sent
from bot.config import ChatSection, Config

REPLAY_PLATFORM = "bridge"  # any configured platform name works; no request ever leaves the process
REPLAY_CHAT = "replay"
JOBS_IN_REPLAY = ("nicknames", "rules", "digest")  # publish would write files; inactivity is monthly
COMMAND = re.compile(r"^/([A-Za-z\u4e00-\u9fff]+)(?:@\S+)?\s*(.*)$", re.S)


class RecordingSink:
    """An adapter that delivers nowhere: it records (replay time, message) for the report."""

    name = REPLAY_PLATFORM
    supports_images = False
    max_text = 100_000

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent: list[tuple[dt.datetime, Outgoing]] = []

    async def send(self, message: Outgoing) -> Sent:
        self.sent.append((self.clock(), message))
        return Sent((str(len(self.sent)),))


@dataclass
class ReplayReport:
    messages: int = 0
    stored: int = 0
    replies: int = 0  # bot messages answering a member's message
    answered: int = 0  # distinct member messages that got a reply
    job_posts: int = 0
    jobs_run: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"replayed {self.messages} message(s): {self.stored} stored, {self.answered} answered "
                f"({self.replies} repl{'y' if self.replies == 1 else 'ies'}), {self.job_posts} scheduled post(s) "
                f"from {', '.join(self.jobs_run) or 'no jobs'}; {self.seconds:.1f}s")


def incoming_of(day: Day, index: int) -> Incoming:
    """An archived message as a live one: the display name stands in for the user id."""
    message = day.messages[index]
    command, args = None, ""
    match = COMMAND.match(message.text) if message.kind is MessageKind.TEXT else None
    if match:
        command, args = match.group(1).lower(), match.group(2).strip()
    return Incoming(platform=REPLAY_PLATFORM, chat_id=REPLAY_CHAT, message_id=f"{day.date}-{index}",
                    sender=Member(message.speaker, message.speaker), text=message.text, time=message.time,
                    mentions=tuple(Member(name, name) for name in message.mentions), command=command, args=args)


def replay_config(config: Config, day: Day, db_url: str) -> Config:
    chat = ChatSection(platform=REPLAY_PLATFORM, chat_id=REPLAY_CHAT, group=day.group)
    return config.model_copy(update={
        "chats": [chat], "store": config.store.model_copy(update={"url": db_url}),
        "server": config.server.model_copy(update={"run_scheduler": False}),
    })


def earlier_days(archive: Path | None, config: Config, day: Day) -> list[Day]:
    from bot.archive.reader import ReadOptions, read_folder

    if archive is None:
        return []
    days, _errors = read_folder([archive], ReadOptions.of(config))
    return [d for d in days if d.date < day.date]


def _describe(when: dt.datetime, message: Outgoing, origin: str) -> str:
    mentions = " ".join("@" + m.name for m in message.mentions)
    text = (mentions + " " if mentions else "") + message.text
    lines = text.splitlines() or [""]
    more = f" (+{len(lines) - 3} lines)" if len(lines) > 3 else ""
    body = "\n           ".join(lines[:3])
    return f"{when:%H:%M:%S}  [{origin}] {body}{more}"


async def replay_day(config: Config, day: Day, *, speed: float = 0.0, out: TextIO | None = None,
                     archive: Path | None = None, db_url: str | None = None) -> ReplayReport:
    """Feed `day` through the dispatcher; print what the bot says and when; return the counts."""
    import time

    from bot.dispatch import Dispatcher
    from bot.inbox import Inbox, Item
    from bot.qa.engine import AnswerEngine
    from bot.scheduler import JobScheduler
    from bot.services import Services
    from bot.store import connect

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="archive-bot-replay-") as scratch:
        url = db_url or f"sqlite:///{Path(scratch) / 'replay.db'}"
        config = replay_config(config, day, url)
        zone_now = {"t": day.messages[0].time if day.messages else dt.datetime.now(dt.timezone.utc)}
        clock = lambda: zone_now["t"]  # noqa: E731 - the replay's controllable clock
        db = await asyncio.to_thread(connect, url)
        sink = RecordingSink(clock)
        services = Services(config=config, db=db, http=None, clock=clock)  # type: ignore[arg-type]
        services.adapters[REPLAY_PLATFORM] = sink
        previous = await asyncio.to_thread(earlier_days, archive, config, day)
        services.answers = await asyncio.to_thread(AnswerEngine.from_days, previous, config.answer)
        dispatcher = Dispatcher(services)
        services.dispatcher = dispatcher
        scheduler = JobScheduler(services)
        pending = sorted((when, job_id) for job_id, when in scheduler.next_runs(
            dt.datetime.combine(day.date, dt.time(0, 0), tzinfo=services.zone) - dt.timedelta(microseconds=1)).items()
            if job_id in JOBS_IN_REPLAY and when is not None and when.date() == day.date)
        inbox = Inbox(db, services.zone)
        inbox.start()
        report = ReplayReport()
        answered: set[str] = set()
        printed = 0

        def flush(origin: str) -> None:
            nonlocal printed
            for when, message in sink.sent[printed:]:
                if out is not None:
                    print(_describe(when, message, origin), file=out)
            printed = len(sink.sent)

        async def run_due(until: dt.datetime) -> None:
            while pending and pending[0][0] <= until:
                when, job_id = pending.pop(0)
                zone_now["t"] = when
                before = len(sink.sent)
                await scheduler.trampoline(job_id)
                report.jobs_run.append(job_id)
                report.job_posts += len(sink.sent) - before
                flush(f"job {job_id}")

        try:
            last = None
            for index, message in enumerate(day.messages):
                await run_due(message.time)
                if speed > 0 and last is not None:
                    await asyncio.sleep(min((message.time - last).total_seconds() / speed, 10.0))
                last = message.time
                zone_now["t"] = message.time
                incoming = incoming_of(day, index)
                (new,) = await inbox.store([Item(incoming, day.group)])
                report.messages += 1
                report.stored += int(new)
                before = len(sink.sent)
                await dispatcher.dispatch(incoming)
                replies = [m for _, m in sink.sent[before:]]
                report.replies += len(replies)
                if replies:
                    answered.add(incoming.message_id)
                flush(f"reply to {message.speaker} {message.time:%H:%M:%S}")
            await run_due(dt.datetime.combine(day.date, dt.time(23, 59, 59), tzinfo=services.zone))
        finally:
            await inbox.close()
            db.dispose()
        report.answered = len(answered)
        report.seconds = time.perf_counter() - started
        return report
