"""The app factory: readiness while the index loads, start without platforms, the serve command."""

from __future__ import annotations

import argparse
import threading

import pytest

import bot.app as app_module
from bot.app import wait_ready
from bot.commands.server import listen_port
from tests.integration.conftest import GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update


async def test_healthz_reports_not_ready_until_the_index_is_loaded(make_bot, telegram_api, tmp_path, monkeypatch):
    gate = threading.Event()
    real_build = app_module.build_answer_engine

    def gated_build(db, config):  # the real engine, built only when the test opens the gate
        gate.wait(10)
        return real_build(db, config)

    monkeypatch.setattr(app_module, "build_answer_engine", gated_build)
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    bot = await make_bot(raw, ready=False)
    try:
        response = await bot.client.get("/healthz")
        assert response.status == 200 and await response.json() == {"status": "ok", "ready": False}
        assert (await bot.client.get("/healthz?ready=1")).status == 503
        # webhooks are served meanwhile: messages are stored, /ask says the index is loading
        assert (await post_telegram(bot.client, tg_update("/ask 财付通算发卡行吗？"))).status == 200
        assert "索引还在加载" in telegram_api.sent()[-1]["text"]
        assert len(bot.live_rows()) == 1
    finally:
        gate.set()
    await wait_ready(bot.app)
    response = await bot.client.get("/healthz?ready=1")
    assert response.status == 200 and (await response.json())["ready"] is True


async def test_healthz_reports_a_failed_index_without_crashing(make_bot, tmp_path, monkeypatch):
    def broken(db, config):
        raise ValueError("index file damaged")

    monkeypatch.setattr(app_module, "build_answer_engine", broken)
    bot = await make_bot(base_config(tmp_path), ready=False)
    await bot.app[app_module.LOADER]["task"]  # the loader catches the error and ends; no polling
    body = await (await bot.client.get("/healthz")).json()
    assert body["ready"] is False and "ValueError" in body["error"] and "damaged" not in body["error"]
    assert (await bot.client.get("/healthz?ready=1")).status == 503


async def test_app_starts_with_no_platform_configured(make_bot, tmp_path):
    bot = await make_bot(base_config(tmp_path))
    assert bot.services.adapters == {}
    assert (await bot.client.post("/webhook/telegram", json={})).status == 404
    assert bot.services.answers is not None


@pytest.mark.parametrize("given, environ, expected", [
    (9000, {"PORT": "5000"}, 9000), (None, {"PORT": "5000"}, 5000), (None, {}, 8080), (None, {"PORT": "x"}, 8080)])
def test_serve_port_prefers_flag_then_env_then_config(given, environ, expected):
    assert listen_port(argparse.Namespace(port=given), 8080, environ) == expected


def test_serve_is_registered_on_the_cli():
    from bot.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "0", "--no-scheduler"])
    assert args.func.__name__ == "serve" and args.port == 0 and args.no_scheduler


def test_serve_runs_answers_health_and_stops_gracefully_on_sigterm(tmp_path):
    """The real `archive-bot serve` process: $PORT, readiness, then SIGTERM exits cleanly."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--db", str(tmp_path / "serve.db"),
                             "--no-scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?ready=1", timeout=2) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok", "ready": True}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log = proc.stdout.read().decode()
        assert "serving on http://127.0.0.1:" in log and "Traceback" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_scheduler_runs_inside_the_app_when_configured(make_bot, tmp_path):
    raw = base_config(tmp_path, server={"run_scheduler": True})
    bot = await make_bot(raw)
    scheduler = bot.services.scheduler
    assert scheduler.scheduler.running
    assert {"publish", "nicknames", "digest", "inactivity"} <= {job.id for job in scheduler.scheduler.get_jobs()}
    await bot.client.close()
    assert not scheduler.scheduler.running and bot.services.scheduler is None


async def test_only_the_answer_refresh_when_a_separate_clock_runs_the_jobs(make_bot, tmp_path):
    bot = await make_bot(base_config(tmp_path, server={"run_scheduler": False}))
    scheduler = bot.services.scheduler
    assert [job.id for job in scheduler.scheduler.get_jobs()] == ["refresh-answers"]  # posts nothing


async def test_each_platform_has_a_plain_webhook_route_and_other_names_are_refused(make_bot, telegram_api, tmp_path):
    from aiohttp.web_urldispatcher import PlainResource

    from bot.platforms import adapter_classes

    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    bot = await make_bot(raw)
    plain = {r.canonical for r in bot.app.router.resources() if isinstance(r, PlainResource)}
    assert {f"/webhook/{name}" for name in adapter_classes()} <= plain
    assert (await post_telegram(bot.client, tg_update("早上好"))).status == 200
    assert len(bot.live_rows()) == 1
    unknown = await bot.client.post("/webhook/matrix", json={})
    assert unknown.status == 404 and await unknown.json() == {"ok": False, "error": "unknown platform"}
    assert (await bot.client.put("/webhook/telegram", json={})).status == 405  # POST and GET only, as before


async def test_no_middleware_wraps_the_webhooks(make_bot, tmp_path):
    from bot.web.api import create_api

    bot = await make_bot(base_config(tmp_path))  # the web archive and its API are on by default
    assert not bot.app.middlewares and not create_api().middlewares
    assert bot.app._run_middlewares is False  # aiohttp would wrap every request, webhooks included
