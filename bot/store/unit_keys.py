"""The unit keys the answer log and curation hold, read and renamed in one place.

`answers.unit` and `curation.unit` name what an answer quoted or an admin pinned or hid
(bot/learning.py). When the way a unit is named changes (bot/legacy_units.py) or an erasure
moves a day's lines (bot/erasure.py), both tables are renamed together so feedback and pins keep
pointing at the same unit.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, union, update

from bot.store.schema import answers, curation


GONE = ""  # what an answer's unit becomes when the unit is gone (its first line was erased)


def starting_with(conn: Connection, *prefixes: str) -> list[str]:
    """The distinct unit keys of both tables that start with any of the prefixes."""
    query = union(*(select(table.c.unit).where(table.c.unit.startswith(prefix, autoescape=True))
                    for table in (answers, curation) for prefix in prefixes))
    return sorted(row[0] for row in conn.execute(query))


def rename(conn: Connection, renamed: dict[str, str | None]) -> int:
    """Give units new keys in both tables (inside the caller's transaction). A key mapped to None
    names a unit that is gone: its pins and hides go, and its answers keep their verdicts for
    /stats but name no unit (so they teach nothing about whatever starts there now)."""
    changed = 0
    for old, new in renamed.items():
        if new is None:
            changed += conn.execute(delete(curation).where(curation.c.unit == old)).rowcount
        changed += conn.execute(update(answers).where(answers.c.unit == old).values(unit=new or GONE)).rowcount
        if new is not None:
            changed += conn.execute(update(curation).where(curation.c.unit == old).values(unit=new)).rowcount
    return changed
