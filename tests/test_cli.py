"""The command line's one style: global options anywhere, every failure one line and a non-zero exit.

Each case runs the real `archive-bot` entry point (in process, or as a real subprocess where a
pipe or a signal is involved) and checks the exit code and that stderr is one line without a
traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bot.cli import main
from bot.config import Config, ConfigError, load_config
from bot.store.db import database_url
from tests.conftest import ROOT, SAMPLE_DAY


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("archive-bot: "), lines[0]
    return lines[0]


@pytest.fixture
def db(tmp_path, capsys):
    path = tmp_path / "store.db"
    assert main(["ingest", "--db", str(path), str(SAMPLE_DAY)]) == 0
    capsys.readouterr()
    return path


def test_global_options_before_or_after_the_command(capsys, tmp_path, db):
    config = tmp_path / "c.toml"
    config.write_text('[bot]\nname = "x"\n', encoding="utf-8")
    before = run(capsys, "--config", str(config), "--db", str(db), "stats", "--json")
    after = run(capsys, "stats", "--json", "--config", str(config), "--db", str(db))
    assert before[0] == after[0] == 0 and before[1] == after[1] and '"messages": 146' in before[1]
    assert run(capsys, "ingest", "--config", str(config), "--db", str(db), str(SAMPLE_DAY))[0] == 0


def test_a_missing_database_folder_is_an_error_and_is_not_created(capsys, tmp_path):
    code, _, err = run(capsys, "stats", "--db", str(tmp_path / "no" / "such" / "x.db"))
    assert code == 1 and "does not exist" in one_line_error(err)
    assert not (tmp_path / "no").exists()


def test_an_unreachable_database_is_one_line(capsys):
    code, _, err = run(capsys, "stats", "--db", "postgres://nobody@127.0.0.1:9/none?connect_timeout=2")
    assert code == 1 and "cannot use the database" in one_line_error(err)


def test_postgres_urls_get_the_driver():
    assert database_url("postgres://u:p@db.example.org/x") == "postgresql+psycopg://u:p@db.example.org/x"
    assert database_url("postgresql://u@h/x") == "postgresql+psycopg://u@h/x"
    assert database_url("postgresql+psycopg://u@h/x") == "postgresql+psycopg://u@h/x"
    assert Config.model_validate({"store": {"url": "postgres://u@h/x"}}).store.url == "postgresql+psycopg://u@h/x"


@pytest.mark.parametrize("toml, words", [
    ("[answer]\nanswer_threshold = 0.5\nsuggest_threshold = 0.6\n", "must not be above answer_threshold"),
    ('[[chats]]\nplatform = "telegram"\nchat_id = "-1"\ngroup = "a"\n'
     '[[chats]]\nplatform = "telegram"\nchat_id = -1\ngroup = "b"\n', "configured twice"),
    ('[[chats]]\nplatform = "telegram"\ngroup = "a"\n[chats.chat_id]\nx = 1\n', "must be a string or a number"),
    ('[bot]\npublic_base_url = "bot.example.org"\n', "must start with https://"),
    ('[nicknames]\nenforce = "remove"\n[[chats]]\nplatform = "telegram"\nchat_id = "-1"\ngroup = "a"\n',
     "can remove members"),
    ('[platforms.wecom]\nencoding_aes_key = "tooshort"\n', "43-character EncodingAESKey"),
    ("platforms = 1\n", "platforms"),
    ('[server]\nport = "eighty"\n', "server.port"),
])
def test_config_mistakes_are_named(tmp_path, capsys, toml, words):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(path, environ={"ARCHIVE_BOT_TELEGRAM_TOKEN": "1:x"})  # an env secret under a wrong type too
    code, _, err = run(capsys, "stats", "--config", str(path))
    assert code == 2 and words.split()[0] in one_line_error(err)


def test_a_folder_as_config_is_named(tmp_path, capsys):
    code, _, err = run(capsys, "stats", "--config", str(tmp_path))
    assert code == 2 and "is a folder" in one_line_error(err)


def test_empty_question_and_unknown_group(capsys, db):
    code, out, err = run(capsys, "ask", "", "--db", str(db))
    assert code == 2 and out == "" and "nothing to ask" in one_line_error(err)
    code, out, err = run(capsys, "search", "备付金", "--group", "nosuch", "--db", str(db))
    assert code == 2 and out == "" and "unknown group 'nosuch'; known: prodarch" in one_line_error(err)


@pytest.mark.parametrize("argv", [
    ["digest", "--archive", str(SAMPLE_DAY), "--group", "prodarch", "--date", "2018-02-30"],
    ["export", "--group", "prodarch", "--date", "2018-02-30"],
    ["replay", "--archive", str(SAMPLE_DAY), "--group", "prodarch", "--date", "2018-02-30"],
])
def test_every_bad_date_is_worded_the_same(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "invalid date '2018-02-30' (expected an existing day as YYYY-MM-DD)" in capsys.readouterr().err


def test_top_level_help_is_for_users(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "register" not in text and "module" not in text and "--db" in text


def test_a_closed_pipe_ends_quietly(db):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    questions = "\n".join(["备付金的利息归谁？"] * 200) + "\n"
    proc = subprocess.run(f'{sys.executable} -m bot ask - --db "{db}" | head -c 1',
                          shell=True, input=questions.encode(), capture_output=True, env=env, timeout=300)
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr, proc.stderr.decode()[-500:]


def test_ctrl_c_on_a_running_clock_is_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "clock", "--db", str(tmp_path / "c.db")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        seen = b""
        while b"clock running" not in seen and time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stderr.readline()
        assert b"clock running" in seen, seen.decode()[-500:]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130) and b"Traceback" not in err, err.decode()[-500:]
