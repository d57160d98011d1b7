"""`archive-bot serve`: run the webhook server (and, unless disabled, the scheduled jobs).

The port comes from --port, else $PORT (Heroku-style platforms), else server.port. Shutdown on
SIGTERM/SIGINT is graceful: in-flight requests and outbound sends get server.shutdown_timeout.
"""

from __future__ import annotations

import argparse
import logging
import os

from bot.commands.common import config_from

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'  # no headers: Telegram's secret travels in one


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the webhook server and the scheduled jobs")
    parser.add_argument("--host", help="listen address (default: server.host)")
    parser.add_argument("--port", type=int, help="listen port (default: $PORT, else server.port)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="do not run the scheduled jobs here (a separate `archive-bot clock` does)")
    parser.set_defaults(func=serve)


def listen_port(args: argparse.Namespace, configured: int, environ: dict[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    if args.port is not None:
        return args.port
    if environ.get("PORT", "").isdigit():
        return int(environ["PORT"])
    return configured


def access_logger(mode: str, sample: int) -> logging.Logger | None:
    """None (no access log: the default, a line per request is 6% of the webhook's time), every
    request, or one request in `sample` (and every 5xx)."""
    if mode == "off":
        return None
    logger = logging.getLogger("aiohttp.access")
    if mode == "sampled":
        from bot.metrics import SampledAccessLog

        logger.filters = [SampledAccessLog(sample)]
    return logger


def serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app

    config = config_from(args)
    if args.no_scheduler:
        config = config.model_copy(update={"server": config.server.model_copy(update={"run_scheduler": False})})
    host = args.host or config.server.host
    port = listen_port(args, config.server.port)
    if not config.server.instance:  # a restart on the same address resumes its own pending work at once
        import socket

        config = config.model_copy(update={"server": config.server.model_copy(
            update={"instance": f"{socket.gethostname()}:{port}"})})
    app = create_app(config)
    logging.getLogger(__name__).info("serving on http://%s:%d", host, port)
    web.run_app(app, host=host, port=port, shutdown_timeout=config.server.shutdown_timeout,
                access_log=access_logger(config.server.access_log, config.server.access_log_sample),
                access_log_format=ACCESS_LOG_FORMAT, print=None)
    return 0
