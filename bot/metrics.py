"""What the bot counts, for Prometheus (`GET /metrics`), and the structured log format.

One process is one scrape target, so the counters live in this process's own registry
(`REGISTRY`, not prometheus-client's global default), the way loggers live in `logging`: the
places that count import the metric and increment it. Nothing here holds names or text: labels
are platforms, statuses, outcomes and job ids.

The three series counted for every webhook request (`REQUESTS`, `STORED`, `HANDLING`) are plain
dicts (`HotCounter`, `HotHistogram`) read by the registry when /metrics is scraped: a
prometheus-client `.labels(...).inc()` takes a lock and a few microseconds, which the busiest
path paid three times per message. They are touched from the event loop only.

`/metrics` is open by default (it reveals counts only, never names or words); set
`web.protect_metrics = true` to ask for the archive's user and password there too.
"""

from __future__ import annotations

import bisect
import json
import logging
import random
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

REGISTRY = CollectorRegistry(auto_describe=True)


class HotCounter:
    """A labelled counter as a dict (label values -> count); `inc(*values)` is one dict update."""

    def __init__(self, name: str, documentation: str, labelnames: list[str], registry=REGISTRY) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.counts: dict[tuple[str, ...], int] = {}
        self.created: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def inc(self, *values: str) -> None:
        try:
            self.counts[values] += 1
        except KeyError:
            self.created[values] = time.time()
            self.counts[values] = 1

    def collect(self) -> list[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, count in list(self.counts.items()):
            family.add_metric(values, count, created=self.created[values])
        return [family]


class HotHistogram:
    """A labelled histogram as a dict (label values -> [count per bucket..., sum])."""

    def __init__(self, name: str, documentation: str, labelnames: list[str], buckets: tuple[float, ...],
                 registry=REGISTRY) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.bounds = tuple(sorted(buckets))  # an observation counts in the first bucket whose bound >= it
        self.series: dict[tuple[str, ...], list[float]] = {}
        self.created: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def observe(self, value: float, *values: str) -> None:
        series = self.series.get(values)
        if series is None:
            series = self.series[values] = [0] * (len(self.bounds) + 2)  # buckets, +Inf, sum
            self.created[values] = time.time()
        series[bisect.bisect_left(self.bounds, value)] += 1
        series[-1] += value

    def collect(self) -> list[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self.series.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*map(floatToGoString, self.bounds), "+Inf"), series[:-1]):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric(values, buckets, sum_value=series[-1])
            family.samples.append(Sample(self.name + "_created", dict(zip(self.labelnames, values)),
                                         self.created[values]))
        return [family]


REQUESTS = HotCounter("archive_bot_webhook_requests", "Webhook requests by platform and HTTP status",
                      ["platform", "status"])
STORED = HotCounter("archive_bot_messages_stored", "New live messages committed to the store", ["platform"])
ANSWERS = Counter("archive_bot_answers", "Questions the auto-answerer took up, by outcome (given, suggested, "
                  "silent; late: older than answer.deadline_seconds, not looked up or not posted)", ["outcome"],
                  registry=REGISTRY)
SENDS = Counter("archive_bot_sends", "Outbound platform messages by outcome (ok, failed)",
                ["platform", "outcome"], registry=REGISTRY)
SEND_RETRIES = Counter("archive_bot_send_retries", "Outbound attempts retried (429, 5xx, network)", ["platform"],
                       registry=REGISTRY)
JOB_RUNS = Counter("archive_bot_job_runs", "Scheduled job runs by outcome (ok, failed)", ["job", "outcome"],
                   registry=REGISTRY)
INDEX_SIZE = Gauge("archive_bot_index_size", "What the answer index holds", ["kind"], registry=REGISTRY)
HANDLING = HotHistogram("archive_bot_handling_seconds", "From a new message's commit to the end of its handling",
                        ["platform"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                               10, 30))


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
