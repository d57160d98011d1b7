"""A process catching up with erasures made elsewhere (bot/erasure_watch.py), on a real SQLite file:
only the days an erasure rewrote are reloaded, rendered answers are forgotten, nothing happens
when nothing changed, and the digest's suggestions never quote the erased words. Invented names."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import build_answer_engine
from bot.archive.model import Day, Message
from bot.archive.writer import write_day
from bot.config import Config
from bot.erasure import erase
from bot.services import Services
from bot.store import connect
from bot.store.ingest import ingest_paths
from bot.topics import Background
from handlers.digest import suggestions_for
from tests.integration.test_erasure import GROUP, LEAVER, SECRET_WORDS, ZONE, invented_day
from tests.units_day import units_day

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def services(tmp_path):
    write_day(invented_day(), tmp_path / "archive")
    write_day(units_day(), tmp_path / "archive")  # another group, nobody erased there
    config = Config.model_validate({"store": {"url": f"sqlite:///{tmp_path / 'bot.db'}"}, "encoder": {"kind": "none"},
                                    "answer": {"answer_threshold": 0.04, "suggest_threshold": 0.02}})
    db = connect(config.store.url)
    ingest_paths(db, [tmp_path / "archive"])
    services = Services(config=config, db=db, http=None)
    services.erasures.before_loading(db)
    services.answers = build_answer_engine(db, config)
    return services


def elsewhere(services) -> None:
    """An erasure as `archive-bot erase` makes it: on the store, the process not told."""
    erase(services.db, services.config, {LEAVER}, requested_by="operator", now=NOW)


def test_only_the_erased_days_are_reloaded_and_rendered_answers_forgotten(services):
    assert services.erasures.catch_up(services) == 0  # nothing new: nothing reloaded
    services.answer_texts[("rendered",)] = SECRET_WORDS
    services.last_answers[("telegram", "1")] = object()
    elsewhere(services)
    assert services.answers.search(SECRET_WORDS, GROUP)  # the engine still holds the old day
    assert services.erasures.catch_up(services) == 1  # one day of one group rewritten
    assert not services.answers.search(SECRET_WORDS, GROUP)
    assert services.answer_texts == {} and services.last_answers == {}
    assert services.erasures.catch_up(services) == 0
    assert len(services.answers.days) == 2


def test_an_engine_loaded_without_a_watermark_takes_the_store_as_it_is(services):
    elsewhere(services)
    services.erasures.seen = None  # e.g. a replay's engine, built from its own days
    assert services.erasures.catch_up(services) == 0 and services.erasures.seen == 1


def test_the_digest_never_suggests_words_erased_elsewhere(services):
    asked = Message(dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE), "路人甲-某公司-北京", "备付金对账一般用什么报表系统比较稳定？")
    day = Day(GROUP, dt.date(2026, 11, 25), "2026-11-25-chat", "archive-bot", messages=[asked])
    [suggestion] = suggestions_for(services, day, Background.of_days([])).values()
    assert SECRET_WORDS in suggestion.text
    elsewhere(services)
    assert all(SECRET_WORDS not in s.text and s.author != LEAVER
               for s in suggestions_for(services, day, Background.of_days([])).values())
