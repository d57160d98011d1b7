"""The texts the bot sends for answers, related discussions, threads and search hits.

Plain text by default (every platform shows it); `markdown=True` writes the adapters' Markdown
subset (`Outgoing.markdown`: *bold* names, [label](url) links) for platforms that render it, with
every piece of archived text escaped (`escape_markdown`) so an asterisk or bracket someone typed
stays literal. Links point into the web archive via `bot.links.day_url` and are left out when no
public_base_url is configured.
"""

from __future__ import annotations

from bot.archive.model import Message, MessageKind
from bot.links import day_url
from bot.markup import escape_markdown
from bot.qa.results import AskResult, Hit, Match
from bot.qa.mining import QAPair, asks, is_greeting, said
from bot.text import normalise

ANSWER_CHARS = 280  # the quoted answer; the link has the rest
LINE_CHARS = 120  # one quoted line
MAX_QUOTED = 3
QUESTION_CHARS = 60
NOTHING_FOUND = "没有在群聊记录里找到相关的讨论。"


def shorten(text: str, limit: int) -> str:
    """One line, at most `limit` characters, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _when(message: Message) -> str:
    return message.time.strftime("%Y-%m-%d %H:%M")


def _link(base_url: str, group: str, message: Message, markdown: bool, label: str = "原文") -> str:
    url = day_url(base_url, group, message.time.date(), message.time.time().replace(microsecond=0))
    if not url:
        return ""
    return f"[{label}]({url})" if markdown else f"{label}: {url}"


def _name(speaker: str, markdown: bool) -> str:
    return f"*{escape_markdown(speaker)}*" if markdown else speaker


def _plain(text: str, markdown: bool) -> str:
    """Archived or typed text, literal in either mode."""
    return escape_markdown(text) if markdown else text


def best_answers(pair: QAPair, limit: int = ANSWER_CHARS, lines: int = MAX_QUOTED) -> list[Message]:
    """The answer lines worth quoting: others' substantive statements, in order, within the budget.

    Lines that are themselves questions (someone else's question, a rhetorical reply) are skipped.
    """
    chosen: list[Message] = []
    used = 0
    for m in pair.answers:
        text = said(m.text)  # a quote-reply without the quote
        if m.speaker == pair.asker or m.kind is not MessageKind.TEXT or is_greeting(text):
            continue
        if len(normalise(text)) < 4 or asks(text):
            continue
        if chosen and used + min(len(text), LINE_CHARS) > limit:
            break
        chosen.append(m)
        used += min(len(text), LINE_CHARS)
        if len(chosen) >= lines:
            break
    return chosen


def answer_text(match: Match | AskResult, base_url: str = "", markdown: bool = False) -> str:
    """The reply to a question answered from the archive: who answered what, when, and a link."""
    if isinstance(match, AskResult):
        if match.match is None:
            return NOTHING_FOUND
        match = match.match
    pair = match.pair
    where = _plain(pair.group, markdown)
    if pair.kind == "passage":  # a piece of a talk: the talk itself is the answer
        lines = [f"群里讲过（{where}，{_when(pair.first)}，{_name(pair.asker, markdown)}）：",
                 _plain(shorten(pair.excerpt, ANSWER_CHARS), markdown)]
    else:
        asked = said(pair.first.text) if pair.kind == "window" else pair.question_text
        question = _plain(shorten(asked, QUESTION_CHARS), markdown)
        verb = "问" if asks(asked) else "说"  # a reply chain or window may start with a statement
        lines = [f"这个问题群里讨论过（{where}，{_when(pair.first)}，{_name(pair.asker, markdown)} {verb}：{question}）"]
        if pair.context:
            lines[0] += f"，接着“{_plain(shorten(pair.context_text, QUESTION_CHARS), markdown)}”"
    for m in best_answers(pair):
        lines.append(f"{_name(m.speaker, markdown)}：{_plain(shorten(said(m.text), LINE_CHARS), markdown)}")
    link = _link(base_url, pair.group, pair.first, markdown, "查看完整讨论")
    if link:
        lines.append(link)
    return "\n".join(lines)


def related_text(result: AskResult | list[Match], base_url: str = "", markdown: bool = False) -> str:
    """Up to three earlier discussions that may help, each with date, asker and link."""
    matches = list(result.related if isinstance(result, AskResult) else result[:3])
    if not matches:
        return NOTHING_FOUND
    lines = ["可能相关的讨论："]
    for number, match in enumerate(matches, start=1):
        pair = match.pair
        question = _plain(shorten(pair.question_text, QUESTION_CHARS), markdown)
        line = f"{number}. {_plain(pair.group, markdown)} {pair.date.isoformat()} {_name(pair.asker, markdown)}：{question}"
        link = _link(base_url, pair.group, pair.first, markdown, "链接")
        lines.append(f"{line} {link}" if link else line)
    return "\n".join(lines)


SEARCH_HINT = "可以用 {search} 关键词 查找原话。"


def nothing_found_text(search: str = "/search") -> str:
    """What an explicit question gets when no discussion is likely enough to show: the words may
    still be in the archive, and a search (the chat's /search, the CLI's `archive-bot search`)
    finds them without the ranker's judgement."""
    return NOTHING_FOUND + SEARCH_HINT.format(search=search)


def thread_text(pair: QAPair, base_url: str = "", markdown: bool = False) -> str:
    """The whole archived exchange, for /thread: every line with time and speaker."""
    lines = [f"{_plain(pair.group, markdown)} {pair.date.isoformat()}"]
    for m in (*pair.question, *pair.answers):
        body = m.text if m.kind is MessageKind.TEXT else ("[图片]" if m.kind is MessageKind.IMAGE else m.text)
        lines.append(f"{m.time.strftime('%H:%M:%S')} {_name(m.speaker, markdown)}：{_plain(' '.join(body.split()), markdown)}")
    link = _link(base_url, pair.group, pair.first, markdown)
    if link:
        lines.append(link)
    return "\n".join(lines)


def snippet(text: str, query: str, width: int = 60) -> str:
    """The part of the text around the first query word it contains, with ellipses."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    folded = flat.casefold()
    at = -1
    for word in sorted(normalise(query).split(), key=len, reverse=True):
        at = folded.find(word)
        if at >= 0:
            break
    if at < 0:
        return shorten(flat, width)
    start = max(0, at - width // 3)
    end = min(len(flat), start + width)
    start = max(0, end - width)
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


def search_text(hits: list[Hit], query: str, base_url: str = "", markdown: bool = False) -> str:
    """Search results: date, speaker and a snippet around the match, one per line."""
    if not hits:
        return f"没有找到包含“{_plain(query, markdown)}”的聊天记录。"
    lines = [f"“{_plain(query, markdown)}”的搜索结果："]
    for number, hit in enumerate(hits, start=1):
        m = hit.message
        line = f"{number}. {hit.date.isoformat()} {_name(m.speaker, markdown)}：{_plain(snippet(m.text, query), markdown)}"
        link = _link(base_url, hit.group, m, markdown, "链接")
        lines.append(f"{line} {link}" if link else line)
    return "\n".join(lines)
