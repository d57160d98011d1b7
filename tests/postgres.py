"""A throwaway PostgreSQL server for the tests that prove the store runs on it too.

Starts the Debian server binaries on 127.0.0.1 with a fresh cluster in a temporary folder
(as the `postgres` user when the tests run as root, since initdb refuses root) and removes it
afterwards. Skips with the reason where no server binaries are installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    return [runuser, "-u", "postgres", "--", *argv]


@pytest.fixture(scope="session")
def postgres_url():
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    import psycopg  # noqa: F401 - a test dependency: a broken install fails here, it is not skipped
    folder = Path(tempfile.mkdtemp(prefix="archive-bot-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    run = lambda argv: subprocess.run(_as_server_user(argv), check=True, capture_output=True, timeout=120)  # noqa: E731
    try:
        run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--locale=C.UTF-8"])
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"])
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_url):
    """A clean schema for one test: every table dropped and created again."""
    from bot.store import connect
    from bot.store.schema import metadata

    engine = connect(postgres_url, create=False)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A store URL for tests that must hold on both stores: a SQLite file, then a clean PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    request.getfixturevalue("postgres_db")  # a clean schema on the throwaway server
    return request.getfixturevalue("postgres_url")
