"""The config loads from TOML, names the bad key on error, and takes secrets from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pydantic import ValidationError

from bot.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_need_no_file():
    config = load_config(None, environ={})
    assert config.store.url.startswith("sqlite:///")
    assert config.bot.timezone == "Asia/Shanghai"
    assert config.web.public is False  # the archive is protected by default
    assert all(path.is_dir() for path in config.archive.paths)


def test_example_file_is_valid_and_documents_every_key():
    config = load_config(ROOT / "config.example.toml", environ={})
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, flags=re.M))

    def keys(model) -> set[str]:
        found = set()
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if hasattr(type(value), "model_fields"):
                found |= keys(value)
            elif name != "chats":
                found.add(name)
        return found

    missing = keys(config) - documented
    assert not missing, f"keys not documented in config.example.toml: {sorted(missing)}"
    for field in ("platform", "chat_id", "group", "auto_answer", "admins", "admin_chat_id"):
        assert field in documented


def test_bad_key_is_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[answer]\nanswer_threshold = 3\n[bot]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(bad, environ={})
    message = str(caught.value)
    assert "answer.answer_threshold" in message
    assert "bot.timezone" in message and "Mars/Olympus" in message


def test_unknown_key_is_named(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text("[server]\nprot = 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_config(bad, environ={})


def test_invalid_toml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[bot\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, environ={})
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", environ={})


def test_secrets_come_from_environment(tmp_path):
    config = load_config(None, environ={"ARCHIVE_BOT_TELEGRAM_TOKEN": "123:abc", "ARCHIVE_BOT_WEB_PASSWORD": "pw"})
    assert config.platforms.telegram.bot_token == "123:abc"
    assert config.web.password == "pw"


def test_chat_lookup_and_numeric_chat_ids(tmp_path):
    path = tmp_path / "chats.toml"
    path.write_text('[[chats]]\nplatform = "telegram"\nchat_id = -100123\ngroup = "g"\n', encoding="utf-8")
    config: Config = load_config(path, environ={})
    assert config.chat("telegram", "-100123").group == "g"
    assert config.chat("slack", "-100123") is None


def test_every_platform_section_has_a_registered_adapter_and_chats_name_only_those():
    from bot.config import PlatformsSection
    from bot.platforms import adapter_classes

    classes = adapter_classes()
    assert set(classes) == set(PlatformsSection.model_fields)
    for name, cls in classes.items():
        assert cls.methods and cls.content_types
        assert cls.enabled_by in PlatformsSection.model_fields[name].annotation.model_fields
    assert classes["wecom"].methods == ("GET", "POST")  # URL verification is a signed GET
    with pytest.raises(ValidationError, match="unknown platform 'matrix'"):
        Config.model_validate({"chats": [{"platform": "matrix", "chat_id": "1", "group": "g"}]})
