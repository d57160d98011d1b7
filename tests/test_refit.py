"""The feedback refit of the answer ranker: adopted only when it ranks and decides the held-out
questions at least as well, with both figures logged and every attempt recorded. Built on the bundled sample day; the
eval rows are the sample day's own questions and invented chatter that must stay silent."""

from __future__ import annotations

import json
import logging

from bot.archive import read_folder
from bot.config import SAMPLE_ARCHIVE, AnswerSection
from bot.learning import unit_key
from bot.qa.engine import AnswerEngine
from bot.refit import refit
from bot.store import answers, connect, ranker_models

CHATTER = ["今天中午食堂的红烧肉怎么样？", "周末有人一起去爬山吗？", "谁知道楼下停车场几点关门？",
           "明天的会议改到几点了？", "有没有推荐的机械键盘？", "大家端午节放几天假？"]


def engine() -> AnswerEngine:
    days, _ = read_folder([SAMPLE_ARCHIVE])
    return AnswerEngine.from_days(days, AnswerSection())


def eval_file(tmp_path, pairs, dev_every: int) -> str:
    rows = []
    for n, pair in enumerate(pairs):
        rows.append({"kind": "answer", "query": pair.question_text, "group": pair.group,
                     "date": pair.date.isoformat(), "time": pair.first.time.strftime("%H:%M:%S"),
                     "split": "dev" if n % dev_every == 0 else "test"})
    for n, text in enumerate(CHATTER):
        rows.append({"kind": "silent", "query": text, "split": "dev" if n % 2 == 0 else "test"})
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return str(path)


def give_feedback(db, pairs, verdict: int, answered=None) -> None:
    """Two members' verdict on each pair's question answered with `answered(pair)` (default: itself)."""
    for n, pair in enumerate(pairs):
        unit = unit_key(answered(pair) if answered else pair)
        answer_id = answers.record(db, platform="telegram", chat_id="-1", group=pair.group, kind="answer",
                                   prompted=False, question_message_id=f"{verdict}-{n}", asker_id="1",
                                   question=pair.question_text, unit=unit, score=0.9, ts=n,
                                   message_ids=[f"b{verdict}-{n}"])
        for member in ("11", "12"):
            answers.give(db, answer_id, member, verdict, "reaction", n)


def other_units(qa, pairs, pick) -> dict:
    """For each pair, one of the candidates for its own question that start elsewhere (wrong ones):
    pick(list) chooses which, e.g. the best (a plausible runner-up) or the worst."""
    found = {}
    for p in pairs:
        other = [u for u, _, _ in qa.scored(p.question_text) if u.first.time != p.first.time]
        if other:
            found[unit_key(p)] = pick(other)
    return found


def test_a_refit_worse_on_held_out_data_is_not_adopted(tmp_path, caplog):
    qa = engine()
    shipped = qa.ranker
    pairs = [p for p in qa.pairs() if len(p.question_text) >= 8]
    wrong = other_units(qa, pairs, lambda units: units[-1])
    assert len(wrong) >= 10
    db = connect(tmp_path / "bot.db")
    confirmed = [p for p in pairs if unit_key(p) in wrong]
    give_feedback(db, confirmed, answers.RIGHT, answered=lambda p: wrong[unit_key(p)])  # confirms the least likely ones
    caplog.set_level(logging.INFO, logger="bot.refit")
    result = refit(db, qa, [eval_file(tmp_path, pairs, dev_every=len(pairs))], 1_700_000_000)
    assert result is not None and not result.adopted and result.after["mrr"] < result.before["mrr"]
    assert qa.ranker is shipped  # the model in use stays
    assert ranker_models.adopted(db, "lexical") is None
    [line] = [r.getMessage() for r in caplog.records if "held-out" in r.getMessage()]
    assert (f"MRR {result.before['mrr']:.3f} and decided right {result.before['decided']:.3f} with the model in use, "
            f"{result.after['mrr']:.3f} and {result.after['decided']:.3f} refitted: kept") in line


def test_a_refit_at_least_as_good_is_adopted_and_loaded_at_start(tmp_path):
    from bot.app import build_answer_engine
    from bot.config import Config

    qa = engine()
    shipped = qa.ranker
    pairs = [p for p in qa.pairs() if len(p.question_text) >= 8][:24]
    wrong = other_units(qa, pairs, lambda units: units[0])
    db = connect(tmp_path / "bot.db")
    give_feedback(db, pairs[::2], answers.RIGHT)  # members confirm the exact matches
    give_feedback(db, [p for p in pairs[1::2] if unit_key(p) in wrong], answers.WRONG,
                  answered=lambda p: wrong[unit_key(p)])  # and call the runner-ups wrong
    result = refit(db, qa, [eval_file(tmp_path, pairs, dev_every=2)], 1_700_000_000)
    assert result is not None and result.adopted
    assert result.after["mrr"] >= result.before["mrr"] and result.after["decided"] >= result.before["decided"]
    assert qa.ranker is not shipped
    config = Config.model_validate({"store": {"url": f"sqlite:///{tmp_path / 'bot.db'}"}, "encoder": {"kind": "none"}})
    loaded = build_answer_engine(db, config).ranker
    assert loaded.to_json() == ranker_models.adopted(db, "lexical").to_json() == qa.ranker.to_json()
    assert ranker_models.adopted(db, "hybrid") is None  # fitted for the lexical engine only


def test_an_adopted_model_of_older_features_is_not_loaded(tmp_path):
    db = connect(tmp_path / "bot.db")
    stale = {**engine().ranker.to_json(), "features": ["cover_query"]}
    ranker_models.record(db, kind="lexical", model=stale, rows=3, before={}, after={}, adopted=True, ts=0)
    assert ranker_models.adopted(db, "lexical") is None


def test_no_held_out_rows_means_no_refit(tmp_path):
    qa = engine()
    db = connect(tmp_path / "bot.db")
    assert refit(db, qa, [str(tmp_path / "missing.jsonl")], 0) is None


async def test_the_nightly_job_refits_through_the_scheduler(tmp_path, telegram_api, http, fake_clock):
    from bot.scheduler import JobScheduler
    from tests.jobs_support import Clock, at, make_config, make_services

    qa = engine()
    pairs = [p for p in qa.pairs() if len(p.question_text) >= 8][:24]
    config = make_config(tmp_path, telegram_api.api_base,
                         feedback={"eval_paths": [eval_file(tmp_path, pairs, dev_every=6)]})
    services = make_services(config, http, Clock(at(2024, 6, 1, 4, 30)), fake_clock)
    services.answers = qa
    give_feedback(services.db, pairs, answers.WRONG)
    scheduler = JobScheduler(services)
    assert scheduler.next_runs(at(2024, 6, 1, 0, 0))["refit"] == at(2024, 6, 1, 4, 30)
    await scheduler.trampoline("refit")
    with services.db.connect() as conn:
        from sqlalchemy import select

        from bot.store.schema import ranker_models as table
        [row] = conn.execute(select(table)).mappings().all()
    assert row["kind"] == "lexical" and row["rows"] > 0
    assert row["adopted"] == (row["heldout_after"]["mrr"] >= row["heldout_before"]["mrr"]
                              and row["heldout_after"]["decided"] >= row["heldout_before"]["decided"])
