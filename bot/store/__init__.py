"""The message store: SQLAlchemy Core over SQLite by default, PostgreSQL for large deployments."""

from bot.store.db import connect, database_url

__all__ = ["connect", "database_url"]
