"""Subcommands of the `archive-bot` CLI, one module per area."""
