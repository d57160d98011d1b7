"""bench/pool.py merge: judged first places land in the eval files as answers or rejections.

Invented rows and names only; the eval folder is a temporary copy, so tests/data/eval is untouched."""

from __future__ import annotations

import argparse
import hashlib
import json

import pytest

from bench import pool


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    live = {"id": "live-x-01", "split": "dev", "group": "prodarch", "date": "2030-02-02", "time": "10:00:00",
            "text_sha1": "0123456789", "stands_alone": True, "answers": [], "gloss": "Invented question, no answer."}
    silent = {"kind": "silent", "query": "周末去哪里露营比较好", "split": "test", "answers": []}
    (tmp_path / "live_x.jsonl").write_text(json.dumps(live, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "reworded.jsonl").write_text(json.dumps(silent, ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setattr(pool, "EVAL", tmp_path)
    cand = {"kind": "exchange", "group": "prodarch", "date": "2030-01-01", "time": "09:00:00",
            "lines": ["09:00:00 张三: 问题", "09:01:00 李四: 回答"],
            "speakers": {"09:00:00": [_sha("张三")], "09:01:00": [_sha("李四")]}}
    entries = [{"pid": 0, "row": "live-x-01", "candidate": cand},
               {"pid": 1, "row": "周末去哪里露营比较好", "candidate": cand},
               {"pid": 2, "row": "live-x-01", "candidate": {**cand, "time": "09:00:00"}}]
    (tmp_path / "judging").mkdir()
    (tmp_path / "judging" / "pool.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return tmp_path


def _merge(folder, judgments):
    path = folder / "judging" / "judged.jsonl"
    path.write_text("".join(json.dumps(j) + "\n" for j in judgments), encoding="utf-8")
    pool.merge(argparse.Namespace(judgments=str(path), pool=folder / "judging" / "pool.jsonl"))
    return [json.loads(line) for name in ("live_x.jsonl", "reworded.jsonl")
            for line in (folder / name).read_text(encoding="utf-8").splitlines()]


def test_answers_rejections_and_found_questions(folder, capsys):
    live, reworded = _merge(folder, [
        {"pid": 0, "verdict": "partial", "time": "09:01:00", "gloss": "The second member says how."},
        {"pid": 1, "verdict": "yes", "time": "09:01:00", "gloss": "It answers after all."},
        {"pid": 2, "verdict": "no", "time": None, "gloss": ""},
    ])
    assert live["answers"] == [{"group": "prodarch", "date": "2030-01-01", "time": "09:01:00", "source": "pool",
                                "speaker_sha1": _sha("李四")}]
    assert live["rejected"] == [{"group": "prodarch", "date": "2030-01-01", "time": "09:00:00"}]
    assert "Pooled judgment (partial): The second member says how." in live["gloss"]
    assert reworded["kind"] == "found" and reworded["answers"][0]["source"] == "pool"


def test_a_judged_time_outside_the_candidate_is_skipped_and_said(folder, capsys):
    live, reworded = _merge(folder, [{"pid": 0, "verdict": "yes", "time": "11:11:11", "gloss": "A slip."}])
    assert live["answers"] == [] and "rejected" not in live and reworded["kind"] == "silent"
    assert "skipped pid 0" in capsys.readouterr().out


def test_an_unknown_verdict_stops_the_merge_before_any_file_is_written(folder):
    before = (folder / "live_x.jsonl").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        _merge(folder, [{"pid": 2, "verdict": "no", "time": None}, {"pid": 0, "verdict": "maybe", "time": None}])
    assert (folder / "live_x.jsonl").read_text(encoding="utf-8") == before


def test_a_new_question_becomes_a_dev_row_with_its_judged_answers(folder):
    skeleton = {"id": "live-p-prodarch-2030-03-03-101010", "split": "dev", "group": "prodarch", "date": "2030-03-03",
                "time": "10:10:10", "text_sha1": "abcdefabcd"}
    cand = {"kind": "exchange", "group": "prodarch", "date": "2030-01-01", "time": "09:00:00",
            "lines": ["09:00:00 张三: 问题", "09:01:00 李四: 回答"],
            "speakers": {"09:00:00": [_sha("张三")], "09:01:00": [_sha("李四")]}}
    entries = [{"pid": 0, "row": skeleton["id"], "candidate": cand, "new_row": skeleton, "describe_question": True},
               {"pid": 1, "row": skeleton["id"], "candidate": {**cand, "time": "08:00:00"}, "new_row": skeleton,
                "describe_question": False}]
    (folder / "judging" / "pool.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    _merge(folder, [{"pid": 1, "verdict": "no", "time": None, "gloss": ""},
                    {"pid": 0, "verdict": "yes", "time": "09:01:00", "gloss": "Says how.", "stands_alone": False,
                     "question_gloss": "Asks how an invented thing is done."}])
    row = json.loads((folder / pool.NEW_FILE).read_text(encoding="utf-8"))
    assert {k: row[k] for k in skeleton} == skeleton and row["stands_alone"] is False
    assert row["gloss"].startswith("Asks how an invented thing is done.")
    assert row["answers"][0]["time"] == "09:01:00" and row["rejected"][0]["time"] == "08:00:00"
