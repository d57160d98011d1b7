"""The live question set labelled by reading prodarch's days 2018-02-01..09 (dev) and 02-25..28 (test).

Each row places a real question and the earlier messages that answer it by group/date/time only; the
text is read from the shared archive at run time. These checks keep the labels honest: every place
names exactly one text message, the stored hash still matches it, and answers come strictly from
days before the question (the index a live question is asked against).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.archive.model import MessageKind
from bot.archive.reader import read_day

LIVE_B = Path(__file__).parent / "data" / "eval" / "live_b.jsonl"
TEST_DAYS = {"2018-02-25", "2018-02-26", "2018-02-27", "2018-02-28"}
DEV_DAYS = {f"2018-02-0{n}" for n in range(1, 10)}
KEYS = {"id", "split", "group", "date", "time", "text_sha1", "stands_alone", "answers", "gloss"}
HEX10 = re.compile(r"^[0-9a-f]{10}$")
TIME = re.compile(r"^\d\d:\d\d:\d\d$")
HAN = re.compile(r"[\u4e00-\u9fff]")


def rows() -> list[dict]:
    return [json.loads(line) for line in LIVE_B.read_text(encoding="utf-8").splitlines() if line.strip()]


def sha10(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def check_place(place: dict) -> None:
    assert set(place) <= {"group", "date", "time", "speaker_sha1"}, place
    dt.date.fromisoformat(place["date"])
    assert TIME.match(place["time"]), place
    assert "speaker_sha1" not in place or HEX10.match(place["speaker_sha1"]), place


def test_rows_are_well_formed_and_ids_unique():
    data = rows()
    assert len(data) >= 100
    assert len({r["id"] for r in data}) == len(data)
    for row in data:
        assert set(row) - {"speaker_sha1"} == KEYS, row["id"]
        assert row["group"] == "prodarch" and isinstance(row["stands_alone"], bool), row["id"]
        check_place({k: row[k] for k in ("group", "date", "time", "speaker_sha1") if k in row})
        assert HEX10.match(row["text_sha1"]), row["id"]
        assert row["id"] == f"live-{row['date'][5:7]}{row['date'][8:10]}-{row['id'][-2:]}", row["id"]
        assert row["date"] in (TEST_DAYS if row["split"] == "test" else DEV_DAYS), row["id"]
        gloss = row["gloss"]
        assert 20 <= len(gloss) <= 600 and not HAN.search(gloss), f"{row['id']}: gloss must be own English words"


def test_answers_come_strictly_from_earlier_days():
    for row in rows():
        for place in row["answers"]:
            check_place(place)
            assert place["group"] in {"prodarch", "proddev", "devarch"}, row["id"]
            assert place["date"] < row["date"], f"{row['id']}: answer {place} is not from an earlier day"
        keys = [(p["group"], p["date"], p["time"], p.get("speaker_sha1")) for p in row["answers"]]
        assert len(keys) == len(set(keys)), f"{row['id']}: an answer listed twice"


def test_splits_cover_every_test_day_and_enough_dev_questions():
    per_day = Counter((r["split"], r["date"]) for r in rows())
    assert {d for s, d in per_day if s == "test"} == TEST_DAYS
    assert sum(n for (s, _), n in per_day.items() if s == "dev") >= 60
    answerable = [r for r in rows() if r["split"] == "test" and r["answers"]]
    unanswerable = [r for r in rows() if r["split"] == "test" and not r["answers"]]
    assert answerable and unanswerable  # a live set needs both verdicts to measure anything


def _message(archive: Path, place: dict):
    path = archive / place["group"] / f"{place['date']}-chat.markdown"
    assert path.exists(), f"no day file for {place}"
    found = [m for m in read_day(path, place["group"]).messages if f"{m.time:%H:%M:%S}" == place["time"]
             and ("speaker_sha1" not in place or sha10(m.speaker) == place["speaker_sha1"])]
    assert len(found) == 1, f"{place} names {len(found)} messages (add speaker_sha1 when a time repeats)"
    return found[0]


def test_every_place_names_one_text_message_and_the_hash_matches(shared_archive):
    for row in rows():
        question = _message(shared_archive, row)
        assert question.kind is MessageKind.TEXT, row["id"]
        assert sha10(question.text) == row["text_sha1"], f"{row['id']}: question text changed"
        for place in row["answers"]:
            answer = _message(shared_archive, place)
            assert answer.kind is MessageKind.TEXT, f"{row['id']}: {place}"
            assert answer is not question

