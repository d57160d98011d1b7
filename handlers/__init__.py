"""What the bot does for people: one module per command or job, each with its own `router`."""
