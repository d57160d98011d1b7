"""Fake platform APIs: real aiohttp apps that record what the bot sent (fixtures in `fixtures.py`)."""
