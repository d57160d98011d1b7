"""Running `archive-bot import` and `ask` in-process over the hand-written export fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import main

DATA = Path(__file__).parent / "data" / "imports"


def run_import(capsys, tmp_path: Path, fmt: str, path: Path, *options: str, group: str = "imported") -> dict:
    """The JSON summary of one import into tmp_path/archive and tmp_path/store.db."""
    capsys.readouterr()
    code = main(["import", fmt, str(path), "--group", group, "--out", str(tmp_path / "archive"),
                 "--db", str(tmp_path / "store.db"), "--json", *options])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def import_error(capsys, tmp_path: Path, fmt: str, path: Path, *options: str) -> str:
    """The one-line error of an import that must fail (exit status 1)."""
    capsys.readouterr()
    code = main(["import", fmt, str(path), "--group", "imported", "--out", str(tmp_path / "archive"),
                 "--db", str(tmp_path / "store.db"), *options])
    out, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and err.startswith("archive-bot: "), (code, err)
    return err


def ask(capsys, tmp_path: Path, question: str) -> dict:
    """`ask --json`: its first candidate is the exchange the reply links made (whether the bot would
    answer with it is the ranker's verdict, measured in tests/test_qa_quality.py)."""
    capsys.readouterr()
    assert main(["ask", question, "--db", str(tmp_path / "store.db"), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def exchange(result: dict) -> dict:
    """The best-ranked mined exchange among `ask --json`'s candidates."""
    return next(c for c in result["candidates"] if c["kind"] == "exchange")


def day_text(tmp_path: Path, date: str, group: str = "imported") -> str:
    return (tmp_path / "archive" / group / f"{date}-chat.markdown").read_text(encoding="utf-8")


def archive_texts(tmp_path: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "archive").rglob("*.markdown")))
