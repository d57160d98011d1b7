"""One module per chat platform: verify the raw request, parse it, send replies."""
