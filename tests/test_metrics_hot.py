"""The webhook's plain-dict counters expose exactly what prometheus-client's own Counter and Histogram
expose for the same observations (names, types, labels, buckets, sums), so /metrics is unchanged."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bot.metrics import HotCounter, HotHistogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
OBSERVED = [0.0004, 0.001, 0.0011, 0.003, 0.049, 0.05, 0.7, 2.5, 29.9, 30, 31, 120]  # on and around bounds


def exposition(registry: CollectorRegistry) -> str:
    """The text format with the creation times (which differ by construction) masked."""
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 <t>", generate_latest(registry).decode())


def test_hot_counter_and_histogram_expose_what_prometheus_client_does():
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    requests = HotCounter("demo_requests", "Requests by platform and status", ["platform", "status"], registry=ours)
    handling = HotHistogram("demo_seconds", "Handling time", ["platform"], buckets=BUCKETS, registry=ours)
    their_requests = Counter("demo_requests", "Requests by platform and status", ["platform", "status"],
                             registry=theirs)
    their_handling = Histogram("demo_seconds", "Handling time", ["platform"], buckets=BUCKETS, registry=theirs)
    for n, seconds in enumerate(OBSERVED):
        platform, status = ("telegram", "slack")[n % 2], ("200", "400", "503")[n % 3]
        requests.inc(platform, status)
        their_requests.labels(platform, status).inc()
        handling.observe(seconds, platform)
        their_handling.labels(platform).observe(seconds)
    text = exposition(ours)
    assert text == exposition(theirs)
    assert 'demo_seconds_bucket{le="0.001",platform="slack"} 1.0' in text  # 0.001 itself: bounds are <=
    assert 'demo_seconds_bucket{le="+Inf",platform="slack"} 6.0' in text
    assert 'demo_requests_total{platform="telegram",status="200"} 2.0' in text


def test_an_empty_hot_metric_shows_its_help_and_type_only():
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    HotCounter("demo_stored", "Stored", ["platform"], registry=ours)
    Counter("demo_stored", "Stored", ["platform"], registry=theirs)
    HotHistogram("demo_seconds", "Handling time", ["platform"], buckets=BUCKETS, registry=ours)
    Histogram("demo_seconds", "Handling time", ["platform"], buckets=BUCKETS, registry=theirs)
    assert exposition(ours) == exposition(theirs)
