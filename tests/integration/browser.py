"""One way to open the archive in a real browser: Debian's Chromium driven by Playwright.

The flags keep Chromium off the network (this machine has none but loopback) and quiet at start.
"""

from __future__ import annotations

import shutil
from contextlib import asynccontextmanager

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@asynccontextmanager
async def signed_in_page(password: str):
    """A fresh page whose requests carry the archive's HTTP Basic credentials."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(http_credentials={"username": "archive", "password": password})
            yield await context.new_page()
        finally:
            await browser.close()
