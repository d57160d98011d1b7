"""Rule 2.5 as data: 姓名-公司-岗位 or 姓名-公司-岗位-地区, and who gets reminded of it.

Pure logic, no store and no clock: the job in handlers/nicknames.py feeds it members and reminder
counts; `archive-bot names check` feeds it an archived day's speakers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.config import NicknameSection

# The reminder count comes from nicknames.reminders_before_escalation, so the text never promises
# a different number than the job keeps.
RULE_TEXT_TEMPLATE = (
    "群规 2.5：请把群昵称改为「姓名-公司-岗位」或「姓名-公司-岗位-地区」，"
    "例如 张三-某某支付-产品-上海。经 {reminders} 次提醒仍未修改的，群主有权将其移出本群。"
)
DEFAULT_RULE_TEXT = RULE_TEXT_TEMPLATE.format(reminders=NicknameSection.model_fields["reminders_before_escalation"].default)


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    ok: bool
    reason: str = ""  # why not, in the group's language


@dataclass(frozen=True, slots=True)
class NicknameRule:
    separators: tuple[str, ...] = ("-", "－", "—", "_", "~", "～", "|")
    spaces_separate: bool = False
    min_parts: int = 3
    max_parts: int = 4
    bare_roles: frozenset[str] = frozenset()
    company_not_role: bool = True
    text: str = DEFAULT_RULE_TEXT
    # Compiled once: `check` runs on every chat message (the rename observer).
    _split: re.Pattern = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]
    # Verdicts by name: members keep their names, so the observer mostly asks again about a known one.
    _verdicts: dict[str, Verdict] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_split", self._splitter())

    @classmethod
    def from_config(cls, section: NicknameSection) -> NicknameRule:
        return cls(
            separators=tuple(section.separators),
            spaces_separate=section.spaces_separate,
            min_parts=section.min_parts,
            max_parts=section.max_parts,
            bare_roles=frozenset(role.casefold() for role in section.bare_roles),
            company_not_role=getattr(section, "company_not_role", True),
            text=section.rule_text or RULE_TEXT_TEMPLATE.format(reminders=section.reminders_before_escalation),
        )

    def _splitter(self) -> re.Pattern:
        pieces = [re.escape(sep) for sep in sorted(self.separators, key=len, reverse=True) if sep]
        if self.spaces_separate:
            pieces.append(r"\s+")
        return re.compile("|".join(pieces) or r"(?!)")

    def parts(self, name: str) -> list[str]:
        """The name cut at every separator, each part trimmed (empty parts kept, to be reported)."""
        return [part.strip() for part in self._split.split(name.strip())]

    def check(self, name: str) -> Verdict:
        """Does `name` follow the rule? (remembered for the last 10,000 names asked about)"""
        verdict = self._verdicts.get(name)
        if verdict is None:
            if len(self._verdicts) >= 10_000:
                self._verdicts.clear()
            verdict = self._verdicts[name] = self._judge(name)
        return verdict

    def _judge(self, name: str) -> Verdict:
        parts = self.parts(name)
        if not name.strip():
            return Verdict(name, False, "昵称为空")
        if any(not part for part in parts):
            return Verdict(name, False, "有空的部分")
        if not self.min_parts <= len(parts) <= self.max_parts:
            wanted = (f"{self.min_parts}" if self.min_parts == self.max_parts
                      else f"{self.min_parts}~{self.max_parts}")
            return Verdict(name, False, f"应为 {wanted} 段，现为 {len(parts)} 段")
        if self.company_not_role and len(parts) > 1 and parts[1].casefold() in self.bare_roles:
            return Verdict(name, False, f"公司一栏「{parts[1]}」是岗位，不是公司")
        return Verdict(name, True)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known member as the rule sees them."""

    key: str  # platform user id (or the display name for archive-only members)
    name: str
    is_bot: bool = False
    joined_ts: int | None = None


def exempt(candidate: Candidate, exempt_keys: Iterable[str]) -> bool:
    """Bots, admins, the owner and the allow-list (ids or display names) are never reminded."""
    keys = set(exempt_keys)
    return candidate.is_bot or candidate.key in keys or candidate.name in keys


def non_conforming(rule: NicknameRule, candidates: Iterable[Candidate], exempt_keys: Iterable[str] = (),
                   now_ts: int | None = None, grace_days: int = 0) -> list[tuple[Candidate, Verdict]]:
    """Members to remind, in the order given: not exempt, past their grace period, name fails."""
    keys = set(exempt_keys)
    found: list[tuple[Candidate, Verdict]] = []
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.key in seen or exempt(candidate, keys):
            continue
        seen.add(candidate.key)
        if now_ts is not None and candidate.joined_ts is not None and now_ts - candidate.joined_ts < grace_days * 86400:
            continue  # new member: still in the grace period
        verdict = rule.check(candidate.name)
        if not verdict.ok:
            found.append((candidate, verdict))
    return found


@dataclass(frozen=True, slots=True)
class Plan:
    """What one reminder run does in one chat."""

    remind: list[Candidate]  # @-mentioned in today's reminder (their count goes up)
    escalate: list[Candidate]  # reminded enough times: listed to the admins, not reminded again
    reset: list[str]  # keys whose count is cleared: they renamed to a conforming name or left


def plan(flagged: Sequence[Candidate], counts: dict[str, tuple[int, int | None]], threshold: int) -> Plan:
    """Split today's non-conforming members by how often they were reminded before.

    `counts` maps key -> (reminders so far, escalated_ts). Rule 2.5: after `threshold` unheeded
    reminders the admins may remove the member; they are told once, and the reminders stop.
    """
    flagged_keys = {c.key for c in flagged}
    remind, escalate = [], []
    for candidate in flagged:
        count, escalated = counts.get(candidate.key, (0, None))
        if count >= threshold:
            if escalated is None:
                escalate.append(candidate)
        else:
            remind.append(candidate)
    reset = [key for key in counts if key not in flagged_keys]
    return Plan(remind, escalate, reset)


def batches(items: Sequence, size: int) -> list[list]:
    """Mentions per message are limited: cut the list into chunks of at most `size`."""
    size = max(1, size)
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
