"""Unit keys written by versions before every retrieval unit had an id of its own.

Those versions logged answers and stored pins and hides as `pair:group:date:seq`, whatever kind
of unit was shown for the line at `seq`. The engine shows one unit per first line, the most
structured kind (an exchange before a reply chain, a talk passage, a conversation window), so
that is the unit such a key meant: it is renamed to that unit's id (`QAPair.unit_id`). A key
whose line no longer starts a unit becomes that archived message (`msg:`), which a pin still
cites; keys of days the engine does not hold are left for a later start.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from bot.learning import message_unit
from bot.qa.mining import format_unit_id
from bot.qa.units import UNIT_KINDS, parse_unit_id
from bot.store import unit_keys

log = logging.getLogger(__name__)
LEGACY = "pair:"


def current_key(engine, legacy: str, days: set[tuple[str, str]]) -> str | None:
    """The id an old `pair:` key names today, or None while its day is not loaded."""
    ref = parse_unit_id(legacy)
    if ref is None or ref.kind != "pair" or (ref.group, ref.date) not in days:
        return None
    for kind in UNIT_KINDS:
        unit_id = format_unit_id(kind, ref.group, ref.date, ref.seq)
        if engine.unit(unit_id) is not None:
            return unit_id
    return message_unit(ref.group, ref.date, ref.seq)


def migrate(db: Engine, engine) -> int:
    """Rename the stored `pair:` keys the loaded engine can place; returns how many keys changed."""
    with db.connect() as conn:
        legacy = unit_keys.starting_with(conn, LEGACY)
    if not legacy:
        return 0
    days = {(day.group, day.date.isoformat()) for day in engine.days}
    renamed = {key: new for key in legacy if (new := current_key(engine, key, days)) is not None}
    if renamed:
        with db.begin() as conn:
            unit_keys.rename(conn, renamed)
        log.info("renamed %d unit key(s) written by an earlier version", len(renamed))
    return len(renamed)
