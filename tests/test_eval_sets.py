"""The hand-labelled evaluation sets stay sound: tests/data/eval/live*.jsonl (every live file) and reworded.jsonl.

This one file checks every live*.jsonl file (each labelling half adds its own file; extend the checks here rather
than writing a second test module). Labels hold places in the archive (group, date, time) and a short hash of the
text, never the text itself: the shared archive's words may not be republished. Checks that need the archive read
it from ../shared/archive at run time and skip where it is absent (a fresh clone).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from bot.archive.reader import read_day

EVAL = Path(__file__).parent / "data" / "eval"
LIVE_FILES = sorted(EVAL.glob("live*.jsonl"))
REWORDED = EVAL / "reworded.jsonl"
GROUPS = {"prodarch", "proddev", "devarch"}
SPLITS = {"dev", "test"}
LIVE_KEYS = {"id", "split", "group", "date", "time", "text_sha1", "stands_alone", "answers", "gloss"}
SHORT_HASH = re.compile(r"^[0-9a-f]{10}$")
LONG_CHINESE = re.compile(r"[\u4e00-\u9fff]{13,}")  # a copied archive sentence, not a quoted term
LIVE_FLOOR = 100


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _live() -> list[tuple[str, dict]]:
    return [(path.name, row) for path in LIVE_FILES for row in _rows(path)]


def _anchors(row: dict) -> list[dict]:
    return [row] + list(row.get("answers", []))


def _short_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _check_anchor(anchor: dict, where: str) -> None:
    assert anchor["group"] in GROUPS, where
    dt.date.fromisoformat(anchor["date"])
    dt.time.fromisoformat(anchor["time"])
    assert set(anchor) <= {"group", "date", "time", "speaker_sha1", "text_sha1", "id", "split", "stands_alone",
                           "answers", "gloss", "kind", "query", "source", "rejected"}, where
    assert anchor.get("source", "pool") == "pool", where
    if "speaker_sha1" in anchor:
        assert SHORT_HASH.match(anchor["speaker_sha1"]), where


def test_live_files_exist_and_hold_rows():
    assert LIVE_FILES, "no tests/data/eval/live*.jsonl"
    for path in LIVE_FILES:
        assert _rows(path), path


def test_live_rows_are_well_formed():
    seen = set()
    for name, row in _live():
        where = f"{name} {row.get('id')}"
        assert set(row) - {"speaker_sha1", "rejected"} == LIVE_KEYS, where
        assert row["id"] not in seen, f"duplicate id {where}"
        seen.add(row["id"])
        assert row["split"] in SPLITS, where
        assert isinstance(row["stands_alone"], bool), where
        assert SHORT_HASH.match(row["text_sha1"]), where
        assert isinstance(row["answers"], list), where
        _check_anchor(row, where)
        for answer in row["answers"] + row.get("rejected", []):
            _check_anchor(answer, where)
        gloss = row["gloss"]
        assert isinstance(gloss, str) and 10 <= len(gloss) <= 700, where
        assert not LONG_CHINESE.search(gloss), f"gloss looks like copied archive text: {where}"


def test_live_answers_come_only_from_earlier_days():
    """The index a live question is answered from holds every group's days strictly before the question's day."""
    for name, row in _live():
        for answer in row["answers"] + row.get("rejected", []):
            assert answer["date"] < row["date"], f"{name} {row['id']}: answer {answer} is not before {row['date']}"


def test_live_answers_are_distinct_places():
    for name, row in _live():
        places = [(a["group"], a["date"], a["time"], a.get("speaker_sha1")) for a in row["answers"]]
        assert len(places) == len(set(places)), f"{name} {row['id']}"


def test_live_question_places_are_unique():
    places = [(row["group"], row["date"], row["time"], row.get("speaker_sha1")) for _, row in _live()]
    assert len(places) == len(set(places))


def test_live_test_split_reaches_the_floor():
    names = {path.name for path in LIVE_FILES}
    if not {"live_a.jsonl", "live_b.jsonl"} <= names:
        pytest.skip("the live set's two labelled halves are not both present yet")
    test_rows = [row for _, row in _live() if row["split"] == "test"]
    assert len(test_rows) >= LIVE_FLOOR
    assert any(row["answers"] for row in test_rows) and any(not row["answers"] for row in test_rows)


@lru_cache(maxsize=None)
def _day_messages(root: str, group: str, date: str):
    path = Path(root) / group / f"{date}-chat.markdown"
    assert path.exists(), f"no day file {group} {date}"
    return read_day(path, group).messages


def _resolve(root: Path, anchor: dict):
    found = [m for m in _day_messages(str(root), anchor["group"], anchor["date"])
             if m.time.strftime("%H:%M:%S") == anchor["time"]
             and ("speaker_sha1" not in anchor or _short_sha1(m.speaker) == anchor["speaker_sha1"])]
    return found


def test_live_anchors_resolve_to_one_message_with_the_labelled_text(shared_archive):
    for name, row in _live():
        for anchor in _anchors(row):
            found = _resolve(shared_archive, anchor)
            assert len(found) == 1, f"{name} {row['id']}: {anchor['group']} {anchor['date']} {anchor['time']} " \
                                    f"matches {len(found)} messages"
        for place in row.get("rejected", []):
            assert _resolve(shared_archive, place), f"{name} {row['id']}: rejected {place}"
        question = _resolve(shared_archive, row)[0]
        assert _short_sha1(question.text) == row["text_sha1"], f"{name} {row['id']}: text changed"


LIVE_B_DAYS = {"test": {"2018-02-25", "2018-02-26", "2018-02-27", "2018-02-28"},
               "dev": {f"2018-02-0{day}" for day in range(1, 10)}}


def test_live_b_covers_every_held_out_day_and_sixty_dev_questions():
    """live_b holds prodarch's last four February days (test) and days from 02-01..09 (dev, for fitting)."""
    path = EVAL / "live_b.jsonl"
    if not path.exists():
        pytest.skip("live_b.jsonl not labelled yet")
    rows = _rows(path)
    for row in rows:
        assert row["group"] == "prodarch" and row["date"] in LIVE_B_DAYS[row["split"]], row["id"]
        assert row["id"] == f"live-{row['date'][5:7]}{row['date'][8:10]}-{row['id'][-2:]}", row["id"]
    assert {row["date"] for row in rows if row["split"] == "test"} == LIVE_B_DAYS["test"]
    assert sum(row["split"] == "dev" for row in rows) >= 60


def test_live_anchors_name_text_messages(shared_archive):
    """A question or an answer is something said in words, never an image or a sticker."""
    for name, row in _live():
        for anchor in _anchors(row):
            found = _resolve(shared_archive, anchor)
            assert len(found) == 1 and found[0].kind.value == "text", \
                f"{name} {row['id']}: {anchor['group']} {anchor['date']} {anchor['time']} is not one text message"


# --- the reworded set: paraphrases of archived questions that change vocabulary, plus questions that get no answer

REWORDED_KEYS = {"answer": {"kind", "query", "group", "date", "time", "split", "answers"},
                 "silent": {"kind", "query", "split", "answers"},
                 # written to go unanswered, yet a pooled judgment (bench/pool.py) found an archived answer
                 "found": {"kind", "query", "split", "answers"}}
MAX_RATIO = 60  # rapidfuzz ratio between a paraphrase and the archived question it points at
MAX_MEDIAN_RATIO = 35


def _reworded() -> list[dict]:
    return _rows(REWORDED)


def test_reworded_rows_are_well_formed():
    rows = _reworded()
    queries = [row["query"] for row in rows]
    assert len(queries) == len(set(queries)), "a question is listed twice"
    for row in rows:
        assert row["kind"] in REWORDED_KEYS, row
        assert set(row) - {"rejected"} == REWORDED_KEYS[row["kind"]], row
        assert row["split"] in SPLITS, row
        assert isinstance(row["query"], str) and row["query"].strip(), row
        if row["kind"] == "answer":
            _check_anchor(row, row["query"])
            assert row["answers"], f"an answerable question without answering messages: {row['query']}"
            for answer in row["answers"]:
                _check_anchor(answer, row["query"])
                if answer.get("source") != "pool":  # pooled judgments may find the answer on another day
                    assert (answer["group"], answer["date"]) == (row["group"], row["date"]), row["query"]
                assert (answer["group"], answer["date"], answer["time"]) != (row["group"], row["date"], row["time"])
        elif row["kind"] == "found":
            assert row["answers"] and all(a.get("source") == "pool" for a in row["answers"]), row
            for answer in row["answers"]:
                _check_anchor(answer, row["query"])
        else:
            assert row["answers"] == [], row


def test_reworded_splits_are_stratified_halves():
    rows = _reworded()
    for kinds in ({"answer"}, {"silent", "found"}):  # as written: to be answered, or not
        dev = sum(1 for row in rows if row["kind"] in kinds and row["split"] == "dev")
        test = sum(1 for row in rows if row["kind"] in kinds and row["split"] == "test")
        assert dev >= 20 and test >= 20, kind
        assert abs(dev - test) <= 1, (kinds, dev, test)


def test_reworded_anchors_resolve_and_paraphrases_change_the_wording(shared_archive):
    from rapidfuzz import fuzz

    ratios = []
    for row in _reworded():
        if row["kind"] == "found":
            for answer in row["answers"]:
                assert len(_resolve(shared_archive, answer)) == 1, f"{row['query']}: answer {answer}"
        if row["kind"] != "answer":
            continue
        found = _resolve(shared_archive, row)
        assert len(found) == 1, f"{row['query']}: {row['group']} {row['date']} {row['time']} matches {len(found)}"
        for answer in row["answers"]:
            assert len(_resolve(shared_archive, answer)) == 1, f"{row['query']}: answer {answer}"
        for place in row.get("rejected", []):  # a judged first place: its unit's first line
            assert _resolve(shared_archive, place), f"{row['query']}: rejected {place}"
        ratio = fuzz.ratio(row["query"], found[0].text)
        assert ratio < MAX_RATIO, f"too close to the archived wording ({ratio:.0f}): {row['query']}"
        ratios.append(ratio)
    ratios.sort()
    assert ratios[len(ratios) // 2] < MAX_MEDIAN_RATIO
