"""archive-bot: answers a group's questions from its own archived conversation."""

__version__ = "0.1.0"
