"""The daily digest of ten real days, printed for a human to read, and the time it takes per day.

Reads ../shared/archive/<group> (skips with a reason when it is absent). The archive's background
(word frequency by day, bot/topics.py) is built once from the group's other days, as the job
would keep it; with `--suggest` an answer engine over the group's other days suggests archived
answers to open questions (only from days before the digested one). Prints each digest as plain
text, then the median time per day for the whole digest and for its parts.

    .venv/bin/python bench/digest.py [--group prodarch] [--dates 2018-03-14,2018-03-20] [--week 2018-03-20]
                                     [--suggest] [--quiet]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.archive import read_folder  # noqa: E402
from bot.conversations import split_day  # noqa: E402
from bot.digest import MAX_QUESTIONS, build_digest, render  # noqa: E402
from bot.discussions import discussions  # noqa: E402
from bot.open_questions import open_questions  # noqa: E402
from bot.topics import Background, topic_words  # noqa: E402

SHARED = ROOT.parent / "shared" / "archive"
# A long accounting talk, New Year greetings and check-ins, a substantive open question, and
# seven ordinary days across the archive's three months.
DAYS = ("2018-03-14,2018-01-01,2018-03-20,2018-01-10,2018-01-24,2018-02-08,2018-02-28,2018-03-07,"
        "2018-03-28,2018-04-03")


def seconds(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", default="prodarch")
    parser.add_argument("--dates", default=DAYS, help="comma-separated ISO dates")
    parser.add_argument("--suggest", action="store_true", help="archive suggestions from an answer engine")
    parser.add_argument("--quiet", action="store_true", help="only the timings")
    parser.add_argument("--week", default="2018-03-20", help="also print the weekly digest of the week ending here")
    args = parser.parse_args()
    folder = SHARED / args.group
    if not folder.is_dir():
        print(f"skipped: shared archive not found at {folder} (it lives beside the checkout)")
        return 0
    days, errors = read_folder([folder])
    by_date = {d.date.isoformat(): d for d in days}
    wanted = [date for date in args.dates.split(",") if date in by_date]
    if not wanted:
        print(f"skipped: none of {args.dates} in {folder}")
        return 0
    others = [d for d in days if d.date.isoformat() not in wanted]
    background, background_seconds = seconds(Background.of_days, others)
    engine = None
    if args.suggest:
        from bot.qa.engine import AnswerEngine

        engine = AnswerEngine.from_days(others)
    parts: dict[str, list[float]] = {"split": [], "discussions": [], "questions": [], "topics": [], "digest": []}
    for date in wanted:
        day = by_date[date]
        conversations, took = seconds(split_day, day)
        parts["split"].append(took)
        parts["discussions"].append(seconds(discussions, day, background, "", conversations)[1])
        asked, took = seconds(open_questions, day, background, conversations)
        parts["questions"].append(took)
        parts["topics"].append(seconds(topic_words, day.messages, background)[1])
        suggestions = {}
        if engine is not None:
            from handlers.digest import as_suggestion

            for question in asked[:MAX_QUESTIONS]:
                found = as_suggestion(engine.ask(question.message.text, day.group), day.date, "",
                                      question.message.speaker)
                if found is not None:
                    suggestions[question.position] = found
        digest, took = seconds(build_digest, day, background=background, suggestions=suggestions)
        text = render(digest)
        parts["digest"].append(took)
        if not args.quiet:
            print(text)
            print(f"[{len(text)} characters, {len(day.messages)} messages, built in {took * 1000:.0f} ms]")
            print("-" * 72)
    if not args.quiet and args.week and args.week in by_date:
        from bot.weekly import build_week, render_week, week_dates

        end = dt.date.fromisoformat(args.week)
        dates = week_dates(end)
        earlier = [by_date[d.replace(year=d.year - 1).isoformat()] for d in dates
                   if d.replace(year=d.year - 1).isoformat() in by_date]
        week, took = seconds(build_week, [by_date[d.isoformat()] for d in dates if d.isoformat() in by_date], end,
                             background=background, earlier=earlier)
        print(render_week(week))
        print(f"[weekly digest built in {took * 1000:.0f} ms]")
        print("-" * 72)
    print(f"{len(wanted)} days of {args.group}; background of {background.days} other days built once in "
          f"{background_seconds:.1f} s ({background_seconds / max(1, background.days) * 1000:.0f} ms per day)")
    for name, values in parts.items():
        print(f"  {name:12} median {statistics.median(values) * 1000:7.1f} ms per day, max {max(values) * 1000:7.1f} ms")
    if errors:
        print(f"({len(errors)} unreadable day files skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
