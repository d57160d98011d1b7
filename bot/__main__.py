"""`python -m bot` is the same as the `archive-bot` command."""

from bot.cli import main

raise SystemExit(main())
