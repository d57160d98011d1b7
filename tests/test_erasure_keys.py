"""After an erasure takes lines out of a day, feedback, pins and hides still name the same units:
keys follow their first line to its new place, and those of units whose first line was erased
name nothing. Real SQLite file, the invented day of tests/units_day.py, bot/erasure.py's `erase`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.archive.writer import write_day
from bot.config import Config
from bot.erasure import erase
from bot.qa.engine import AnswerEngine
from bot.store import answers, connect, curation
from bot.store.ingest import ingest_paths
from bot.store.schema import answers as answer_rows
from bot.store.schema import curation as curation_rows
from tests.units_day import BANKER, DATE, GROUP, TALK_TAIL, units_day

CHAT = {"platform": "telegram", "chat_id": "-1009"}


def key(kind: str, seq: int, piece: int = 0) -> str:
    return f"{kind}:{GROUP}:{DATE}:{seq}" + (f":{piece}" if piece else "")


@pytest.fixture
def db(tmp_path):
    write_day(units_day(), tmp_path / "archive")
    db = connect(tmp_path / "bot.db")
    ingest_paths(db, [tmp_path / "archive"])
    # The banker's lines are 1, 4 and 8 of the day.
    curation.add(db, **CHAT, action="pin", unit=key("chain", 7), question="规则引擎怎么灰度", admin_id="9", ts=1)
    curation.add(db, **CHAT, action="pin", unit=key("msg", 9), question="规则快照要留吗", admin_id="9", ts=2)
    curation.add(db, **CHAT, action="hide", unit=key("exchange", 4), question="", admin_id="9", ts=3)
    curation.add(db, **CHAT, action="hide", unit=key("window", 0), question="", admin_id="9", ts=4)
    for unit, n in ((key("passage", 3, 1), 1), (key("exchange", 4), 2), (f"pair:{GROUP}:{DATE}:5", 3)):
        answer = answers.record(db, **CHAT, group=GROUP, kind="answer", prompted=True, question_message_id=str(n),
                                asker_id="5", question=f"问题{n}", unit=unit, score=0.5, ts=n, message_ids=[f"b{n}"])
        answers.give(db, answer, "6", answers.WRONG, "command", n)
    return db


def stored(db) -> tuple[dict[str, str], list[str]]:
    with db.connect() as conn:
        curated = {unit: action for action, unit in conn.execute(select(curation_rows.c.action, curation_rows.c.unit))}
        logged = conn.execute(select(answer_rows.c.unit).order_by(answer_rows.c.id)).scalars().all()
    return curated, logged


def run_erase(db, mode: str) -> None:
    config = Config.model_validate({"erasure": {"mode": mode}})
    erase(db, config, {BANKER}, requested_by="operator", now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))


def test_removed_lines_move_the_keys_of_the_units_after_them(db):
    run_erase(db, "remove")
    curated, logged = stored(db)
    assert curated == {key("chain", 5): "pin", key("msg", 6): "pin", key("window", 0): "hide"}
    assert logged == [key("passage", 2, 1), "", f"pair:{GROUP}:{DATE}:3"]  # the banker's question: no unit
    engine = AnswerEngine.from_store(db)
    assert TALK_TAIL in engine.unit(key("passage", 2, 1)).question_text  # the same talk piece
    assert engine.unit(key("chain", 5)).question_text.startswith("我们上个月把商户进件的风控规则引擎")
    with db.connect() as conn:
        assert len(conn.execute(select(curation_rows)).all()) == 3


def test_marker_lines_keep_every_key_but_those_of_erased_lines(db):
    run_erase(db, "marker")
    curated, logged = stored(db)
    assert curated == {key("chain", 7): "pin", key("msg", 9): "pin", key("window", 0): "hide"}
    assert logged == [key("passage", 3, 1), "", f"pair:{GROUP}:{DATE}:5"]
