"""What the bot counts, for Prometheus (`GET /metrics`), and the structured log format.

One process is one scrape target, so the counters live in this process's own registry
(`REGISTRY`, not prometheus-client's global default), the way loggers live in `logging`: the
places that count import the metric and increment it. Nothing here holds names or text: labels
are platforms, statuses, outcomes and job ids.

`/metrics` is open by default (it reveals counts only, never names or words); set
`web.protect_metrics = true` to ask for the archive's user and password there too.
"""

from __future__ import annotations

import functools
import json
import logging
import random

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("archive_bot_webhook_requests", "Webhook requests by platform and HTTP status",
                   ["platform", "status"], registry=REGISTRY)
STORED = Counter("archive_bot_messages_stored", "New live messages committed to the store", ["platform"],
                 registry=REGISTRY)
ANSWERS = Counter("archive_bot_answers", "Questions the auto-answerer looked up, by outcome "
                  "(given, suggested, silent)", ["outcome"], registry=REGISTRY)
SENDS = Counter("archive_bot_sends", "Outbound platform messages by outcome (ok, failed)",
                ["platform", "outcome"], registry=REGISTRY)
SEND_RETRIES = Counter("archive_bot_send_retries", "Outbound attempts retried (429, 5xx, network)", ["platform"],
                       registry=REGISTRY)
JOB_RUNS = Counter("archive_bot_job_runs", "Scheduled job runs by outcome (ok, failed)", ["job", "outcome"],
                   registry=REGISTRY)
INDEX_SIZE = Gauge("archive_bot_index_size", "What the answer index holds", ["kind"], registry=REGISTRY)
HANDLING = Histogram("archive_bot_handling_seconds", "From a new message's commit to the end of its handling",
                     ["platform"], registry=REGISTRY,
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


@functools.lru_cache(maxsize=1024)  # label values are bounded: platforms, statuses, outcomes
def labelled(metric, *values: str):
    """`metric.labels(*values)`, kept: prometheus-client validates and locks on every `labels`
    call, a few microseconds that the busy webhook pays several times per message."""
    return metric.labels(*values)


def index_size(answers) -> None:
    """Set the index gauges from the answer engine's stats (nothing while it is loading)."""
    stats = getattr(answers, "stats", None)
    if stats is None:
        return
    for kind, value in stats().items():
        INDEX_SIZE.labels(kind).set(value)


def metrics_response(answers) -> web.Response:
    index_size(answers)
    response = web.Response(body=generate_latest(REGISTRY))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response


# -- structured logs ----------------------------------------------------------------------------
_PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=bot.webhook msg="..."`: one line per record, grep- and parser-friendly."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                  "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={_kv(value)}" for key, value in fields.items())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                  "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=False)


def _kv(value: str) -> str:
    return value if value and all(ch.isalnum() or ch in "._:/-+" for ch in value) else json.dumps(value, ensure_ascii=False)


def formatter(style: str) -> logging.Formatter:
    """The formatter for `log.format`: "text" (human), "kv" (key=value) or "json"."""
    if style == "kv":
        return KeyValueFormatter()
    if style == "json":
        return JsonFormatter()
    return logging.Formatter(_PLAIN)


def configure_logging(style: str, level: int) -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setFormatter(formatter(style))
    root.setLevel(level)


class SampledAccessLog(logging.Filter):
    """Lets through one access-log record in `every` (and every 5xx), so a busy webhook does not
    spend its time writing a line per request."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = max(1, every)

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "response_status", 0) or 0
        return status >= 500 or self.every == 1 or random.randrange(self.every) == 0
