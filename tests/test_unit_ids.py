"""Stable unit ids (bot.qa.mining.QAPair.unit_id): one per retrieval unit of any kind, the same after
a restart and a re-mine of an unchanged day, and what learning blocks, demotes and prefers. Over a
real SQLite file and an invented day (tests/units_day.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from bot.archive.writer import write_day
from bot.config import AnswerSection, FeedbackSection
from bot.learning import Lessons, apply
from bot.qa.engine import AnswerEngine
from bot.qa.mining import mine_day
from bot.qa.units import day_units, parse_unit_id
from bot.store import connect
from bot.store.answers import Verdict
from bot.store.ingest import ingest_paths
from bot.store.schema import qa_mined
from tests.conftest import PATH_OPEN_ANSWER
from tests.units_day import ASK_ENGINE, ASK_TALK, DATE, GROUP, TALK_TAIL, units_day


def ids_and_texts(engine: AnswerEngine) -> dict[str, str]:
    units = engine._snap.units.units
    return {unit.unit_id: unit.question_text + "|" + "".join(m.text for m in unit.answers) for unit in units}


def test_every_unit_of_a_day_has_its_own_id_that_says_where_it_starts():
    day = units_day()
    units = day_units(day, mine_day(day))
    ids = [unit.unit_id for unit in units]
    assert len(set(ids)) == len(ids)
    assert {unit.kind for unit in units} == {"exchange", "chain", "passage", "window"}
    talk = [unit for unit in units if unit.kind == "passage"]
    assert [unit.unit_id for unit in talk] == [f"passage:{GROUP}:{DATE}:3", f"passage:{GROUP}:{DATE}:3:1"]
    assert TALK_TAIL in talk[1].question_text
    for unit in units:
        ref = parse_unit_id(unit.unit_id)
        assert (ref.kind, ref.group, ref.date, ref.seq, ref.piece) == (
            unit.kind, GROUP, DATE.isoformat(), unit.question_seqs[0], unit.piece)
    assert parse_unit_id(f"pair:{GROUP}:{DATE}:7") == parse_unit_id(f"pair:{GROUP}:{DATE}:7:0")
    assert parse_unit_id("live:telegram:-100:5") is None and parse_unit_id("passage:g:2021-5-6:1") is None


def test_ids_survive_a_restart_and_a_re_mine_of_the_unchanged_day(tmp_path):
    write_day(units_day(), tmp_path / "archive")
    db = connect(tmp_path / "bot.db")
    ingest_paths(db, [tmp_path / "archive"])
    first = ids_and_texts(AnswerEngine.from_store(db))
    assert ids_and_texts(AnswerEngine.from_store(connect(tmp_path / "bot.db"))) == first  # a restart
    with db.begin() as conn:
        conn.execute(delete(qa_mined))  # as after a miner upgrade: every day is mined again
    ingest_paths(db, [tmp_path / "archive"])  # and the unchanged file read again
    again = AnswerEngine.from_store(db)
    assert ids_and_texts(again) == first
    assert all(again.unit(unit_id).unit_id == unit_id for unit_id in first)
    assert again.unit(f"exchange:{GROUP}:{DATE}:3") is None  # line 3 is a talk, not a question


@pytest.fixture(scope="module")
def engine():
    return AnswerEngine.from_days([units_day()], AnswerSection(**PATH_OPEN_ANSWER))


def run(result, question, taught, config=FeedbackSection(), prompted=False):
    return apply(result, question, taught, config, PATH_OPEN_ANSWER["answer_threshold"],
                 PATH_OPEN_ANSWER["suggest_threshold"], prompted=prompted)


def test_a_passage_marked_wrong_is_blocked_unprompted_and_demoted_when_asked(engine):
    result = engine.ask(ASK_TALK, GROUP)
    top = result.candidates[0].pair
    assert result.answered and top.kind == "passage" and TALK_TAIL in top.question_text
    taught = Lessons([Verdict(top.unit_id, ASK_TALK, -1)])
    unprompted = run(result, ASK_TALK, taught)
    assert top.unit_id not in [m.pair.unit_id for m in unprompted.candidates]
    assert unprompted.match is None or unprompted.match.pair.unit_id != top.unit_id
    asked = run(result, ASK_TALK, taught, prompted=True)
    demoted = next(m for m in asked.candidates if m.pair.unit_id == top.unit_id)
    assert demoted.score == pytest.approx(result.candidates[0].score * FeedbackSection().wrong_factor)
    other_piece = Lessons([Verdict(f"passage:{GROUP}:{DATE}:3", ASK_TALK, -1)])  # the talk's first piece
    assert run(result, ASK_TALK, other_piece).match.pair.unit_id == top.unit_id


def test_a_chain_marked_right_wins_over_a_better_scored_passage(engine):
    result = engine.ask(ASK_TALK, GROUP)
    runner_up = next(m.pair for m in result.candidates[1:] if m.pair.kind in ("chain", "window"))
    taught = Lessons([Verdict(runner_up.unit_id, ASK_TALK, +1)])
    preferred = run(result, ASK_TALK, taught, FeedbackSection(right_bonus=1.0))
    assert preferred.answered and preferred.match.pair.unit_id == runner_up.unit_id


def test_hiding_a_chain_hides_it_and_every_unit_over_its_first_line(engine):
    result = engine.ask(ASK_ENGINE, GROUP)
    top = result.candidates[0].pair
    assert top.kind == "chain" and top.unit_id == f"chain:{GROUP}:{DATE}:7"
    left = run(result, ASK_ENGINE, Lessons(hidden=frozenset({top.unit_id})), prompted=True)
    assert not any(7 in (*m.pair.question_seqs, *m.pair.answer_seqs) for m in left.candidates)


def test_old_pair_keys_name_the_unit_shown_for_their_line(engine):
    from bot.legacy_units import current_key

    days = {(GROUP, DATE.isoformat())}
    old = lambda seq: f"pair:{GROUP}:{DATE}:{seq}"  # noqa: E731
    assert current_key(engine, old(0), days) == f"exchange:{GROUP}:{DATE}:0"
    assert current_key(engine, old(4), days) == f"exchange:{GROUP}:{DATE}:4"  # an exchange before its chain
    assert current_key(engine, old(3), days) == f"passage:{GROUP}:{DATE}:3"  # the talk's first piece
    assert current_key(engine, old(7), days) == f"chain:{GROUP}:{DATE}:7"  # a chain before its window
    assert current_key(engine, old(2), days) == f"msg:{GROUP}:{DATE}:2"  # starts no unit: the message
    assert current_key(engine, f"pair:{GROUP}:2020-01-01:1", days) is None  # a day not loaded: left for later


def test_the_two_pieces_of_one_talk_get_their_own_answer_text(engine):
    """Both pieces start at the talk's line and have no answers: the per-process answer-text cache
    must tell them apart by unit id, or the first piece's text is posted for the second."""
    from types import SimpleNamespace

    from bot.config import Config
    from bot.qa.results import Match
    from handlers.ask import answer_reply

    pieces = sorted((u for u in engine._snap.units.units if u.kind == "passage"), key=lambda u: u.piece)
    assert [u.piece for u in pieces] == [0, 1] and pieces[0].question_seqs == pieces[1].question_seqs
    ctx = SimpleNamespace(services=SimpleNamespace(answer_texts={}, config=Config()))
    first, second = (answer_reply(ctx, Match(u, 0.5)) for u in pieces)
    assert TALK_TAIL in second and TALK_TAIL not in first
