"""A real `archive-bot serve` in a child process, for the crash and several-process tests.

`ServeProcess(config_path, port)` starts `python -m bot serve`, `await ready()` polls /healthz,
`kill()` sends SIGKILL (no cleanup runs: as when a machine loses power), `stop()` SIGTERM;
`serving(configs, folder)` runs one process per config, all ready, and stops them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, raw: dict) -> Path:
    """A TOML file for `raw` (tables of scalars and lists, and [[chats]])."""
    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines: list[str] = []

    def table(name: str, body: dict) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {value(v)}" for k, v in scalars.items())
        for key, sub in body.items():
            if isinstance(sub, dict):
                table(f"{name}.{key}", sub)

    for name, body in raw.items():
        if name == "chats":
            for chat in body:
                lines.append("[[chats]]")
                lines.extend(f"{k} = {value(v)}" for k, v in chat.items())
        else:
            table(name, body)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))  # a broken file fails here, not in the child
    return path


class ServeProcess:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{port}"

    async def start(self) -> ServeProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        handle = open(self.log, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config), "serve", "--port", str(self.port),
            cwd=REPO, env=env, stdout=handle, stderr=handle)
        handle.close()
        return self

    async def ready(self, timeout: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"serve exited: {self.log.read_text(errors='replace')[-2000:]}")
                try:
                    async with http.get(f"{self.url}/healthz", params={"ready": "1"}) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"serve not ready: {self.log.read_text(errors='replace')[-2000:]}")
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()


@contextlib.asynccontextmanager
async def serving(configs: dict[str, Path], folder: Path, timeout: float = 120) -> AsyncIterator[list[ServeProcess]]:
    """One ready `serve` per named config (logs in `folder/<name>.log`), stopped when the block ends."""
    processes = [ServeProcess(config, free_port(), folder / f"{name}.log") for name, config in configs.items()]
    try:
        for process in processes:
            await process.start()
            await process.ready(timeout=timeout)
        yield processes
    finally:
        for process in processes:
            await process.stop()
