"""How the CLI hosts a flow run: a local Prefect API tied to its process, short console logs,
and a fast exit on Ctrl-C.

The ephemeral API Prefect starts on its own outlives a killed parent (`kill -9` left it
orphaned) and shares its process group (a `timeout` SIGTERM stopped it first, and the dying
run then retried it for minutes). Started here instead, it runs in its own session and gets
SIGTERM from the kernel when the CLI process dies, however it dies.
"""
from __future__ import annotations

import contextlib
import copy
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from unittest import mock


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def local_prefect_api() -> Iterator[str | None]:
    """A Prefect API for this process: the configured one (PREFECT_API_URL), else a local
    server that dies with this process. Yields its URL."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    configured = get_current_settings().api.url
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    popen = subprocess.Popen

    class TetheredServer(SubprocessASGIServer):
        def _run_uvicorn_command(self):
            def tethered(*args, **kwargs):
                return popen(*args, preexec_fn=_die_with_parent, start_new_session=True, **kwargs)

            with mock.patch("subprocess.Popen", tethered):
                return super()._run_uvicorn_command()

    server = TetheredServer()
    server.start()
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            try:
                yield server.api_url
            finally:
                _drain_to_api()
    finally:
        server.stop()


def _drain_to_api() -> None:
    """Send queued logs and events while the server still listens (else: 'Error logging to API')."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=5)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


class _WithoutTraceback(logging.Formatter):
    """Console formatter that leaves tracebacks out (the Prefect UI still gets them)."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = copy.copy(record)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return self.inner.format(record)


def one_line_console_logs() -> None:
    """Tracebacks off the terminal: every failure already carries its reason in its message."""
    import prefect  # noqa: F401 - importing Prefect configures its logging
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _WithoutTraceback):
                handler.setFormatter(_WithoutTraceback(handler.formatter))


def interrupted_exit(url: str, code: int) -> None:
    """Ctrl-C: the flow has rolled back and marked unfinished sources `cancelled`; leave now,
    without waiting for fetch threads that may sit in a retry."""
    from flows.settings import redact

    print(f"citylinks: interrupted; unfinished sources rolled back and marked cancelled in {redact(url)}",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)
