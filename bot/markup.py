"""The bot's small Markdown subset: *bold*, `code`, [label](url), and a backslash for a literal.

Handlers and the digest write replies in this subset (`Outgoing.markdown`); each adapter renders
it in its platform's own markup with `convert_markdown`. User text is made literal with
`escape_markdown` first, so a name like 小*星 or a typed [x](y) never turns into markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ESCAPED = re.compile(r"\\([\\*_`\[\]])")
_SPECIAL = re.compile(r"([\\*_`\[\]])")
_BOLD = re.compile(r"\*((?:\\[^\n]|[^*\n\\])+)\*")  # escaped characters may sit inside
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[((?:\\[^\n]|[^\]\n\\])+)\]\((https?://[^)\s]+)\)")


def escape_markdown(text: str) -> str:
    """User text made literal inside the Markdown subset: \\ before each character the subset
    could read as markup (`*`, `_`, `` ` ``, square brackets, the backslash itself)."""
    return _SPECIAL.sub(r"\\\1", text)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


_MARKUP = re.compile(f"{_ESCAPED.pattern}|{_CODE.pattern}|{_LINK.pattern}|{_BOLD.pattern}")


def convert_markdown(text: str, *, bold: str, code: str, link: str,
                     escape: Callable[[str], str] = lambda s: s) -> str:
    """Render the bot's small Markdown subset (*bold*, `code`, [label](url)) in a platform dialect.

    `bold`/`code` are format strings with {0}; `link` takes {label} and {url}. Text outside the
    markup is passed through `escape` first, so user text can never inject markup. A backslash
    makes the next special character literal (`escape_markdown`), so `\\*` is a plain asterisk.
    """
    out, pos = [], 0
    for match in _MARKUP.finditer(text):
        out.append(escape(text[pos:match.start()]))
        escaped, code_text, label, url, bold_text = match.groups()
        if escaped is not None:
            out.append(escape(escaped))
        elif code_text is not None:
            out.append(code.format(escape(code_text)))
        elif label is not None:
            out.append(link.format(label=escape(_unescape(label)), url=escape(url)))
        else:
            out.append(bold.format(escape(_unescape(bold_text))))
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)
