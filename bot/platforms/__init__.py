"""One module per chat platform: verify the raw request, parse it, send replies.

A platform module ends with `ADAPTER = <its adapter class>`; the class declares what the webhook
needs (`name`, `methods`, `content_types`) and `enabled_by`, the key of its `[platforms.<name>]`
config section that turns it on when no chat names it. The core finds platforms here and never
names one; helpers shared by the adapters (base, pacing, text) have no `ADAPTER`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil


@functools.cache
def adapter_classes() -> dict[str, type]:
    """Every platform's adapter class, by platform name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        adapter = getattr(importlib.import_module(f"{__name__}.{info.name}"), "ADAPTER", None)
        if adapter is not None:
            found[adapter.name] = adapter
    return found
