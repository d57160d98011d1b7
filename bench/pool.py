"""Pooled judging of the eval sets: each engine's top places are read by a person and the verdicts kept.

    .venv/bin/python bench/pool.py pool [--out .cache/pool.jsonl] [--no-dense] [--skip OTHER_POOL.jsonl]
                                        [--depth 5 --split test]
    .venv/bin/python bench/pool.py new --days prodarch:2018-03-10:2018-04-04 [--per-day 8] [--out ...]
    .venv/bin/python bench/pool.py merge JUDGMENTS.jsonl [--pool .cache/pool.jsonl]

The labels in tests/data/eval/ were written by reading the archive around each question; they are
partial (a talk that restates a labelled answer, or the same question answered again in another
group, counts as wrong). That understates every engine and teaches the ranker noise. As in TREC
pooling, the places of every engine (hybrid, lexical, today's, the naive baseline; the baselines
on test only, where their figures count) that are neither labelled right nor judged before go
into a pool: each engine's first place, or its first N with --depth N (stopping at a right one:
later places change no figure). `pool` writes them with the texts a judge needs (the question,
the lines before a live question, the labelled answers, the candidate's lines) to .cache/, which
git ignores: archive text never enters the repo. A judge answers each entry with {"pid",
"verdict": "yes" | "partial" | "no", "time": the answering line's HH:MM:SS (yes/partial), "gloss":
one English line}; `merge` adds "yes"/"partial" places to the row's answers (marked "source":
"pool") and "no" places to its "rejected" list, so the next pool skips them. Judges never see
which engine proposed an entry; the brief they judge by is docs/pool-judging.md.

`new` labels questions that are in no set yet the same way (more DEV data for the ranker): real
questions members asked on the given days (what the bot takes for a question, one place each,
spread over each day), each with the first three places of the hybrid and the lexical engine over
the days before it. The first entry of each question also asks the judge whether the question
stands alone and for a one-line English gloss; `merge` writes such questions to live_pooled.jsonl,
split dev. A question none of whose pooled places answers it is labelled "none": pooled to depth
three, so such labels can miss a deeper answer (the file's glosses say so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import EVAL, build, eval_rows, is_right, load_live, load_reworded, run_all, run_engine  # noqa: E402
from bot.archive import read_folder  # noqa: E402
from bot.qa.engine import AnswerEngine  # noqa: E402
from bot.qa.mining import QAPair  # noqa: E402

POOL = ROOT / ".cache" / "pool.jsonl"
LINE_CHARS = 240  # a long line is cut for the judge; the place is what is kept
BASELINES = ("today", "naive")
CONTEXT_LINES = 4  # lines before a live question, for the judge to read it as the group did


def _line(m) -> str:
    text = m.text if len(m.text) <= LINE_CHARS else m.text[:LINE_CHARS] + "…"
    return f"{m.time.strftime('%H:%M:%S')} {m.speaker}: {text}"


def place(unit: QAPair) -> dict:
    return {"group": unit.group, "date": unit.date.isoformat(), "time": unit.first.time.strftime("%H:%M:%S")}


def candidate_lines(unit: QAPair) -> list[str]:
    """The candidate as a judge reads it: the lines it leans on, what it asks (or the talk's piece),
    then the answers."""
    lines = [f"(before) {_line(m)}" for m in unit.context]
    if unit.kind in ("passage", "window") and unit.excerpt:
        lines.append(f"{unit.first.time.strftime('%H:%M:%S')} {unit.first.speaker}: {unit.excerpt[:LINE_CHARS * 3]}")
    else:
        lines += [_line(m) for m in unit.question]
    lines += [_line(m) for m in unit.answers]
    return lines


def _rejected(source: dict) -> set[tuple]:
    return {(a["group"], a["date"], a["time"]) for a in source.get("rejected", [])}


def _sources() -> list[tuple[Path, str, dict]]:
    """Every eval file's rows in file order, each with the id bench/quality gives it."""
    out = [(path, row.get("id") or row["query"][:20], row) for path in sorted(EVAL.glob("*.jsonl"))
           for row in eval_rows(path)]
    ids = [i for _, i, _ in out]
    if len(ids) != len(set(ids)):
        raise SystemExit("eval rows share an id: pooled judgments could not be placed")
    return out


def build_pool(args) -> None:
    days, _ = read_folder([args.archive])
    by_day = {(d.group, d.date.isoformat()): d for d in days}
    rows = load_reworded() + load_live(days)
    engines, _ = run_all(AnswerEngine.from_days(days), None if args.no_dense else build(days, True), rows)
    sources = {i: row for _, i, row in _sources()}
    pending = set()  # places already in a pool that is still being judged
    for path in args.skip:
        pending |= {(e["row"], *(e["candidate"][k] for k in ("group", "date", "time")))
                    for e in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    out, counts = [], {}
    for i, row in enumerate(rows):
        rejected = _rejected(sources[row["id"]])
        seen: set[tuple] = set()
        if args.split and row["split"] != args.split:
            continue
        for name, results in engines.items():
            if name in BASELINES and row["split"] != "test":
                continue  # the baselines' figures count on the test splits only
            for unit in results[i][1][:args.depth]:
                if is_right(unit, row):
                    break  # places after a right one change no figure
                key = tuple(place(unit).values())
                if key in seen or key in rejected or (row["id"], *key) in pending:
                    continue
                seen.add(key)
                counts[name] = counts.get(name, 0) + 1
                out.append(_entry(row, sources[row["id"]], unit, by_day))
    for n, entry in enumerate(out):
        entry["pid"] = n
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in out), encoding="utf-8")
    print(f"{len(out)} entries for {len({e['row'] for e in out})} questions -> {args.out}; new places by "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _entry(row: dict, source: dict, unit: QAPair, by_day: dict) -> dict:
    context = []
    if row["set"] == "live":
        day = by_day.get((source["group"], source["date"]))
        if day is not None:
            at = next((k for k, m in enumerate(day.messages)
                       if m.time.strftime("%H:%M:%S") == source["time"] and m.text == row["query"]), 0)
            context = [_line(m) for m in day.messages[max(0, at - CONTEXT_LINES):at]]
    known = []
    for group, date, time in sorted(row["anchors"])[:4]:
        day = by_day.get((group, date))
        known += [_line(m) for m in (day.messages if day else []) if m.time.strftime("%H:%M:%S") == time][:1]
    return {"row": row["id"], "set": row["set"], "split": row["split"], "question": row["query"],
            "question_date": row["before"].isoformat() if row["before"] else None, "before_question": context,
            "labelled_answers": known, "candidate": {"kind": unit.kind, **place(unit), "lines": candidate_lines(unit),
                                                     "speakers": speakers(unit)}}


def speakers(unit: QAPair) -> dict[str, list[str]]:
    """Each line time of the candidate with its speakers' short hashes: what a judged place keeps
    when two lines share a second."""
    out: dict[str, list[str]] = {}
    for m in unit.messages():
        out.setdefault(m.time.strftime("%H:%M:%S"), []).append(hashlib.sha1(m.speaker.encode()).hexdigest()[:10])
    return out


NEW_FILE = "live_pooled.jsonl"
NEW_DEPTH = 3  # places of each engine pooled for a new question


def _asked(day, per_day: int, known: set[tuple]) -> list:
    """Up to `per_day` questions of a day, spread over it: text messages the bot takes for a
    question, each place once, none already in a set."""
    from bot.archive.model import MessageKind
    from bot.qa.mining import asks

    found = [m for m in day.messages if m.kind is MessageKind.TEXT and 8 <= len(m.text) <= 300 and asks(m.text)
             and (day.group, day.date.isoformat(), m.time.strftime("%H:%M:%S")) not in known]
    if len(found) <= per_day:
        return found
    step = len(found) / per_day
    return [found[int(i * step)] for i in range(per_day)]


def build_new(args) -> None:
    days, _ = read_folder([args.archive])
    known = {(r["group"], r["date"], r["time"]) for _, _, r in _sources() if "group" in r}
    wanted = []
    for spec in args.days:
        group, first, last = spec.split(":")
        wanted += [d for d in sorted(days, key=lambda d: d.date) if d.group == group
                   and first <= d.date.isoformat() <= last]
    rows = []
    for day in wanted:
        same_second = {}
        for m in day.messages:
            same_second.setdefault(m.time, []).append(m)
        for m in _asked(day, args.per_day, known):
            place_ = {"group": day.group, "date": day.date.isoformat(), "time": m.time.strftime("%H:%M:%S")}
            skeleton = {"id": f"live-p-{day.group}-{day.date.isoformat()}-{place_['time'].replace(':', '')}",
                        "split": "dev", **place_, "text_sha1": hashlib.sha1(m.text.encode()).hexdigest()[:10]}
            if len(same_second[m.time]) > 1:
                skeleton["speaker_sha1"] = hashlib.sha1(m.speaker.encode()).hexdigest()[:10]
            rows.append({"id": skeleton["id"], "query": m.text, "anchors": set(), "answerable": False,
                         "split": "dev", "before": day.date, "set": "live", "skeleton": skeleton})
    by_day = {(d.group, d.date.isoformat()): d for d in days}
    engines = {"lexical": run_engine(AnswerEngine.from_days(days), rows), "hybrid": run_engine(build(days, True), rows)}
    out = []
    for i, row in enumerate(rows):
        seen: set[tuple] = set()
        for results in engines.values():
            for unit in results[i][1][:NEW_DEPTH]:
                key = tuple(place(unit).values())
                if key not in seen:
                    seen.add(key)
                    entry = _entry(row, row["skeleton"], unit, by_day)
                    entry["new_row"] = row["skeleton"]
                    entry["describe_question"] = len(seen) == 1
                    out.append(entry)
        if not seen:  # nothing retrieved at all: still a labelled "none" question, described alone
            out.append({"row": row["id"], "set": "live", "split": "dev", "question": row["query"],
                        "question_date": row["before"].isoformat(), "before_question": [], "labelled_answers": [],
                        "candidate": None, "new_row": row["skeleton"], "describe_question": True})
    for n, entry in enumerate(out):
        entry["pid"] = n
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in out), encoding="utf-8")
    print(f"{len(out)} entries for {len(rows)} new questions from {len(wanted)} days -> {args.out}")


def _new_rows(pool: dict, judgments: list[dict], sources: list) -> list[tuple[Path, str, dict]]:
    """The rows of new questions described in these judgments, not yet in any file."""
    have = {i for _, i, _ in sources}
    out = []
    for j in judgments:
        entry = pool[j["pid"]]
        skeleton = entry.get("new_row")
        if not skeleton or skeleton["id"] in have or not entry.get("describe_question"):
            continue
        gloss = str(j.get("question_gloss", "")).strip()
        if not 10 <= len(gloss) <= 400 or not isinstance(j.get("stands_alone"), bool):
            print(f"skipped new question of pid {j['pid']}: no usable gloss or stands_alone")
            continue
        note = " Labelled by pooled judging of the engines' first three places."
        row = {**skeleton, "stands_alone": j["stands_alone"], "answers": [], "gloss": gloss + note}
        have.add(row["id"])
        out.append((EVAL / NEW_FILE, row["id"], row))
    return out


def merge(args) -> None:
    pool = {e["pid"]: e for e in map(json.loads, args.pool.read_text(encoding="utf-8").splitlines())}
    judgments = [json.loads(line) for line in Path(args.judgments).read_text(encoding="utf-8").splitlines() if line.strip()]
    sources = _sources()
    sources += _new_rows(pool, judgments, sources)
    by_id = {i: (path, row) for path, i, row in sources}
    changed: set[Path] = set()
    added = rejected = 0
    for j in judgments:
        entry = pool[j["pid"]]
        if entry["row"] not in by_id:
            continue  # a new question that was not described: left for the next pool
        path, row = by_id[entry["row"]]
        cand = entry["candidate"]
        if cand is None:  # a new question with nothing retrieved: its row alone
            changed.add(path)
            continue
        where = {"group": cand["group"], "date": cand["date"]}
        if j["verdict"] in ("yes", "partial"):
            answer = {**where, "time": j["time"], "source": "pool"}
            if j.get("time") not in cand["speakers"]:  # a slip of the judge: left for the next pool
                print(f"skipped pid {j['pid']}: {j.get('time')} is not a line of its candidate")
                continue
            said = set(cand["speakers"][j["time"]])
            if len(said) == 1:
                answer["speaker_sha1"] = said.pop()
            if any((a["group"], a["date"], a["time"]) == (answer["group"], answer["date"], answer["time"])
                   for a in row["answers"]):
                continue
            row["answers"].append(answer)
            if row.get("kind") == "silent":
                row["kind"] = "found"  # written to go unanswered, yet the archive answers it
            if "gloss" in row and j.get("gloss") and not entry.get("new_row"):
                row["gloss"] = (row["gloss"] + f" Pooled judgment ({j['verdict']}): {j['gloss']}")[:700]
            added += 1
        elif j["verdict"] == "no":
            row.setdefault("rejected", []).append({**where, "time": cand["time"]})
            rejected += 1
        else:
            raise SystemExit(f"pid {j['pid']}: verdict must be yes, partial or no, not {j['verdict']!r}")
        changed.add(path)
    for path in changed:
        rows = [row for p, _, row in sources if p == path]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{added} answers added, {rejected} places rejected, in {', '.join(p.name for p in sorted(changed))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pool")
    p.add_argument("--archive", default=str(ROOT.parent / "shared" / "archive"))
    p.add_argument("--out", type=Path, default=POOL)
    p.add_argument("--no-dense", action="store_true")
    p.add_argument("--skip", type=Path, action="append", default=[], help="a pool still being judged")
    p.add_argument("--depth", type=int, default=1, help="places of each engine's list to judge (1: the first)")
    p.add_argument("--split", choices=("dev", "test"), help="only this split's questions")
    n = sub.add_parser("new")
    n.add_argument("--archive", default=str(ROOT.parent / "shared" / "archive"))
    n.add_argument("--days", action="append", required=True, help="group:first-date:last-date")
    n.add_argument("--per-day", type=int, default=8)
    n.add_argument("--out", type=Path, default=ROOT / ".cache" / "pool-new.jsonl")
    m = sub.add_parser("merge")
    m.add_argument("judgments")
    m.add_argument("--pool", type=Path, default=POOL)
    args = parser.parse_args()
    {"pool": build_pool, "new": build_new, "merge": merge}[args.command](args)


if __name__ == "__main__":
    main()
