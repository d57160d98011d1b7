"""The unit keys the answer log and curation hold, read and renamed in one place.

`answers.unit` and `curation.unit` name what an answer quoted or an admin pinned or hid
(bot/learning.py). When the way a unit is named changes (bot/legacy_units.py) or an erasure
moves a day's lines (bot/erasure.py), both tables are renamed together so feedback and pins keep
pointing at the same unit.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, select, union, update

from bot.store.schema import answers, curation


def starting_with(db: Engine, prefix: str) -> list[str]:
    """The distinct unit keys of both tables that start with `prefix`."""
    query = union(select(answers.c.unit).where(answers.c.unit.startswith(prefix, autoescape=True)),
                  select(curation.c.unit).where(curation.c.unit.startswith(prefix, autoescape=True)))
    with db.connect() as conn:
        return sorted(row[0] for row in conn.execute(query))


def rename(conn: Connection, renamed: dict[str, str | None]) -> int:
    """Give units new keys in both tables (inside the caller's transaction); a key mapped to None
    loses its curation (the unit is gone) while its answers keep the old key. Returns rows changed."""
    changed = 0
    for old, new in renamed.items():
        if new is None:
            changed += conn.execute(delete(curation).where(curation.c.unit == old)).rowcount
            continue
        changed += conn.execute(update(answers).where(answers.c.unit == old).values(unit=new)).rowcount
        changed += conn.execute(update(curation).where(curation.c.unit == old).values(unit=new)).rowcount
    return changed
