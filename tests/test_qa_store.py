"""Pairs persisted in a real SQLite file: mined once, reused, re-mined when a day changes."""

import shutil

from sqlalchemy import func, select

from bot.qa.engine import AnswerEngine
from bot.store.db import connect
from bot.store.ingest import ingest_paths
from bot.store.schema import days, qa_mined, qa_pairs
from tests.conftest import DATA

DAY = DATA / "qa" / "2030-01-15-chat.markdown"
QUESTION = "备付金汇缴户每天日终要清零吗？"


def _count(db, table):
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_from_store_mines_saves_and_reuses(tmp_path):
    folder = tmp_path / "qa"
    folder.mkdir()
    shutil.copy(DAY, folder / DAY.name)
    db = connect(tmp_path / "bot.db")
    ingest_paths(db, [folder])
    engine = AnswerEngine.from_store(db)
    assert engine.ask(QUESTION).answered
    assert _count(db, qa_pairs) == 3 and _count(db, qa_mined) == 1
    with db.connect() as conn:
        first_ids = sorted(conn.execute(select(qa_pairs.c.id)).scalars())
    again = AnswerEngine.from_store(db)  # reuses the stored pairs
    with db.connect() as conn:
        assert sorted(conn.execute(select(qa_pairs.c.id)).scalars()) == first_ids
    assert [p.question_seqs for p in again.pairs()] == [p.question_seqs for p in engine.pairs()]

    # The day changes (re-ingested in place): its pairs are re-mined on refresh.
    text = (folder / DAY.name).read_text(encoding="utf-8")
    (folder / DAY.name).write_text(text.replace("请问备付金汇缴户是每天日终清零吗？", "汇缴户的钱每天日终会清零么？"), encoding="utf-8")
    ingest_paths(db, [folder])
    again.refresh_from_store(db, keys=[("qa", "2030-01-15")])
    assert "汇缴户的钱" in again.ask(QUESTION).candidates[0].pair.question_text
    with db.connect() as conn:
        stored = conn.execute(select(days.c.content_hash, qa_mined.c.content_hash).join(qa_mined)).one()
    assert stored[0] == stored[1]  # the pairs now come from the new content

    # A deleted day drops its pairs (ON DELETE CASCADE) and leaves the index on refresh.
    with db.begin() as conn:
        conn.execute(days.delete())
    assert _count(db, qa_pairs) == 0 and _count(db, qa_mined) == 0
    again.refresh_from_store(db)
    assert not again.ask(QUESTION).candidates


def test_cli_ask_and_search_from_the_store(tmp_path, capsys):
    import json

    from bot.cli import main

    folder = tmp_path / "qa"
    folder.mkdir()
    shutil.copy(DAY, folder / DAY.name)
    db_path = tmp_path / "bot.db"
    ingest_paths(connect(db_path), [folder])
    assert main(["ask", QUESTION, "--db", str(db_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answered"] and (out["match"]["group"], out["match"]["time"]) == ("qa", "09:00:00")
    assert main(["search", "汇缴户", "--db", str(db_path), "--json"]) == 0
    assert any("汇缴户" in hit["text"] for hit in json.loads(capsys.readouterr().out))


def test_pairs_on_postgres(postgres_db, tmp_path):
    """The same store code on PostgreSQL (skipped where no server binaries are installed)."""
    folder = tmp_path / "qa"
    folder.mkdir()
    shutil.copy(DAY, folder / DAY.name)
    ingest_paths(postgres_db, [folder])
    engine = AnswerEngine.from_store(postgres_db)
    assert engine.ask(QUESTION).answered
    again = AnswerEngine.from_store(postgres_db)
    assert [p.answer_seqs for p in again.pairs()] == [p.answer_seqs for p in engine.pairs()]
    assert _count(postgres_db, qa_pairs) == 3
    with postgres_db.begin() as conn:
        conn.execute(days.delete())
    assert _count(postgres_db, qa_mined) == 0
