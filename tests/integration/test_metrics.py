"""GET /metrics: Prometheus text with what the bot counts, after real webhook traffic."""

from __future__ import annotations

import base64
import logging

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import JsonFormatter, KeyValueFormatter, SampledAccessLog
from tests.fakes import four_platforms as fp
from tests.integration.conftest import GROUP, base_config


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def scrape(bot, **kwargs) -> dict[tuple, float]:
    response = await bot.client.get("/metrics", **kwargs)
    assert response.status == 200 and response.content_type == "text/plain"
    return samples(await response.text())


async def test_metrics_count_requests_stored_messages_answers_sends_and_latency(make_bot, telegram_api, tmp_path,
                                                                             fake_clock):
    raw = base_config(tmp_path, platforms={"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
                      chats=[{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": GROUP}])
    bot = await make_bot(raw)
    before = await scrape(bot)
    query, headers, body = fp.signed("telegram", fp.telegram_message("财付通的哪些业务算发卡行的功能？"), fake_clock.now)
    assert (await bot.client.post("/webhook/telegram", data=body, headers=headers)).status == 200
    _, headers, body = fp.signed("telegram", fp.telegram_message(5, message_id=2, update_id=2), fake_clock.now)
    assert (await bot.client.post("/webhook/telegram", data=body, headers=headers)).status == 400
    after = await scrape(bot)

    def delta(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("archive_bot_webhook_requests_total", platform="telegram", status="200") == 1
    assert delta("archive_bot_webhook_requests_total", platform="telegram", status="400") == 1
    assert delta("archive_bot_messages_stored_total", platform="telegram") == 1
    assert delta("archive_bot_answers_total", outcome="given") == 1
    assert delta("archive_bot_sends_total", platform="telegram", outcome="ok") == 1
    assert delta("archive_bot_handling_seconds_count", platform="telegram") == 1
    assert after[("archive_bot_index_size", (("kind", "messages"),))] > 100


async def test_send_retries_and_failures_are_counted(make_bot, telegram_api, tmp_path, fake_clock):
    raw = base_config(tmp_path, platforms={"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
                      chats=[{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": GROUP}])
    bot = await make_bot(raw, load_answers=False)
    before = await scrape(bot)
    telegram_api.fail_next(500, times=10)
    _, headers, body = fp.signed("telegram", fp.telegram_message("/help"), fake_clock.now)
    assert (await bot.client.post("/webhook/telegram", data=body, headers=headers)).status == 200
    after = await scrape(bot)
    key = lambda name, **labels: (name, tuple(sorted(labels.items())))  # noqa: E731
    assert after[key("archive_bot_send_retries_total", platform="telegram")] - before.get(
        key("archive_bot_send_retries_total", platform="telegram"), 0) == 3
    assert after[key("archive_bot_sends_total", platform="telegram", outcome="failed")] - before.get(
        key("archive_bot_sends_total", platform="telegram", outcome="failed"), 0) == 1


async def test_metrics_can_be_protected_like_the_archive(make_bot, tmp_path):
    raw = base_config(tmp_path, web={"password": "pw", "protect_metrics": True})
    bot = await make_bot(raw, load_answers=False)
    assert (await bot.client.get("/metrics")).status == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b"archive:pw").decode()}
    await scrape(bot, headers=auth)


def record(msg: str, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("bot.webhook", logging.INFO, __file__, 1, msg, (), None)
    rec.__dict__.update(extra)
    return rec


def test_structured_log_lines():
    line = KeyValueFormatter().format(record('telegram webhook refused: 403 "bad"'))
    assert " level=info logger=bot.webhook msg=\"telegram webhook refused: 403 \\\"bad\\\"\"" in line
    import json
    assert json.loads(JsonFormatter().format(record("x=1")))["msg"] == "x=1"


def test_sampled_access_log_keeps_every_5xx_and_about_one_in_n():
    sampler = SampledAccessLog(10)
    kept = sum(sampler.filter(record("GET /", response_status=200)) for _ in range(10_000))
    assert 700 < kept < 1300
    assert all(sampler.filter(record("POST /", response_status=503)) for _ in range(100))
