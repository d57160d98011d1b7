"""How often would the bot speak up unprompted? The spam side of answer quality.

The quality benchmark measures answers to questions that *have* an archived answer. Live traffic is
mostly conversation: follow-ups, asides, questions to one person. This script replays later days of
each group as if they arrived live, against an index of the days before them, through the same
gates as the auto-answer route (`asks`, `stands_alone`, the engine's verdict, the archived question
standing alone), and prints how many
unprompted answers the bot would post per day and per 100 questions, with each answer for a human
to judge.

    .venv/bin/python bench/chattiness.py [--held-out-days 8] [--group prodarch] [--quiet]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.archive import MessageKind, read_folder  # noqa: E402
from bot.chat import Incoming, Member  # noqa: E402
from bot.qa.engine import AnswerEngine  # noqa: E402
from bot.qa.mining import asks  # noqa: E402
from handlers.autoanswer import archived_question_stands_alone, stands_alone  # noqa: E402

SHARED = ROOT.parent / "shared" / "archive"


def as_incoming(message, group: str) -> Incoming:
    """What the webhook would have received (archived mentions carry names, not ids)."""
    return Incoming(platform="replay", chat_id=group, message_id=f"{message.time:%H%M%S}",
                    sender=Member(message.speaker, message.speaker), text=message.text, time=message.time,
                    mentions=tuple(Member(name, name) for name in message.mentions))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", default="prodarch")
    parser.add_argument("--held-out-days", type=int, default=8)
    parser.add_argument("--quiet", action="store_true", help="figures only, not each answer")
    args = parser.parse_args()
    if not (SHARED / args.group).is_dir():
        print(f"skipped: {SHARED / args.group} not found (the shared archive lives beside the checkout)")
        return 0
    days, _ = read_folder([SHARED / args.group])
    days = [d for d in sorted(days, key=lambda d: d.date) if d.messages]
    known, later = days[: -args.held_out_days], days[-args.held_out_days:]
    engine = AnswerEngine.from_days(known)
    per_day, questions, answers = [], 0, 0
    for day in later:
        posted = 0
        for message in day.messages:
            if message.kind is not MessageKind.TEXT or not asks(message.text):
                continue
            questions += 1
            if not stands_alone(as_incoming(message, day.group)):
                continue
            result = engine.ask(message.text, day.group)
            if result.answered and archived_question_stands_alone(result.match.pair):
                posted += 1
                if not args.quiet:
                    pair = result.match.pair
                    print(f"{day.date} {message.time:%H:%M} {result.confidence:.2f}  {message.text[:50]!r}\n"
                          f"    -> {pair.date} {pair.question_text[:60]!r}")
        per_day.append(posted)
        answers += posted
    messages = sum(len(d.messages) for d in later)
    print(f"\n{args.group}: index of {len(known)} days; replayed {len(later)} later days, {messages} messages, "
          f"{questions} questions")
    print(f"unprompted answers: {answers} in total, median {statistics.median(per_day):g} a day "
          f"(max {max(per_day)}), {100 * answers / max(questions, 1):.1f} per 100 questions, "
          f"{1000 * answers / max(messages, 1):.1f} per 1,000 messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
