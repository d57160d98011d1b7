"""Per-message cost of the nickname observer's rule check: rebuilt per message vs built once.

The rename observer (handlers/nicknames.py) checks every sender's display name against rule 2.5.
Prints medians in microseconds per message over a mix of conforming and failing names, and the
ratio. Run: .venv/bin/python bench/nicknames.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Config  # noqa: E402
from bot.nickname_rule import NicknameRule  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers.nicknames import rule_for  # noqa: E402

NAMES = ["王五-戊支付-风控-成都", "小王", "Ada Lovelace", "张三-产品-上海", "李四_丁银行_清算", "赵六-己科技-技术-西安-远程"]
ROUNDS, PER_ROUND = 15, 20_000


def per_message(fn) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for n in range(PER_ROUND):
            fn(NAMES[n % len(NAMES)])
        samples.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(samples)


def main() -> None:
    config = Config.model_validate({})
    services = Services(config=config, db=None, http=None)  # type: ignore[arg-type] - only the rule cache is used
    rebuilt = per_message(lambda name: NicknameRule.from_config(services.config.nicknames).check(name).ok)
    cached = per_message(lambda name: rule_for(services).check(name).ok)
    print(f"rule rebuilt per message: {rebuilt:6.2f} us/message (median of {ROUNDS} x {PER_ROUND})")
    print(f"rule built once (cached): {cached:6.2f} us/message")
    print(f"ratio rebuilt/cached:     {rebuilt / cached:6.2f}x")


if __name__ == "__main__":
    main()
