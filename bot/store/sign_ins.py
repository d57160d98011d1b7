"""Failed archive sign-ins per client address, kept in the store so web processes count them together.

Two `serve` processes behind one address must refuse a password guesser after the same number of
tries as one process would, and a restart must not give it a fresh count; the policy (how many
failures within how long) is bot/web/auth.py's, this module only reads and writes the record.
Reading is one query on the (address, ts) index; writing a failure prunes what no longer counts.
"""

from __future__ import annotations

from sqlalchemy import Engine, bindparam, delete, func, select

from bot.store.db import writing
from bot.store.schema import failed_sign_ins

ADDRESS_CHARS = 100  # an IPv6 address with a zone fits; anything longer is cut, not refused
KEEP_ROWS = 100_000  # the newest failures kept whatever their age: the table's bound under a flood


def _address(address: str) -> str:
    return address[:ADDRESS_CHARS]


# The throttle's one query: the (address, ts) index finds the address's newest failures.
RECENT = (select(failed_sign_ins.c.ts)
          .where(failed_sign_ins.c.address == bindparam("address"), failed_sign_ins.c.ts > bindparam("after_ms"))
          .order_by(failed_sign_ins.c.ts.desc()).limit(bindparam("limit")))


def recent_failures(db: Engine, address: str, after_ms: int, limit: int) -> list[int]:
    """When (ms) the address last failed, newest first: at most `limit` failures later than `after_ms`."""
    with db.connect() as conn:
        return list(conn.execute(RECENT, {"address": _address(address), "after_ms": after_ms, "limit": limit}).scalars())


def record_failure(db: Engine, address: str, now_ms: int, forget_until_ms: int, keep: int = KEEP_ROWS) -> None:
    """Count one failure of `address` at `now_ms`; drop every address's failures at or before
    `forget_until_ms` (they no longer count) and all but the newest `keep` rows."""
    with writing(db) as conn:
        row_id = conn.execute(failed_sign_ins.insert().values(address=_address(address), ts=now_ms)
                              .returning(failed_sign_ins.c.id)).scalar_one()
        conn.execute(delete(failed_sign_ins).where(failed_sign_ins.c.ts <= forget_until_ms))
        conn.execute(delete(failed_sign_ins).where(failed_sign_ins.c.id <= row_id - keep))


def forget(db: Engine, address: str) -> None:
    """Drop the address's failures (it signed in)."""
    with writing(db) as conn:
        conn.execute(delete(failed_sign_ins).where(failed_sign_ins.c.address == _address(address)))


def count(db: Engine) -> int:
    """How many failures the store holds (all addresses): what pruning keeps bounded."""
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(failed_sign_ins)).scalar_one())
