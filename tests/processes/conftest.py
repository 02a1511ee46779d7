"""The `citylinks` command in its own processes, as cron or a terminal runs it: two at once,
killed with -9, stopped with SIGTERM/SIGINT, without network. One Prefect server for all."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.prefect_server import PrefectServer

CLI = Path(sys.executable).with_name("citylinks")


@pytest.fixture(scope="package")
def prefect_api(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("prefect-api"))
    server.start()
    yield server.api_url
    server.stop()


class Cli:
    """Starts `citylinks` processes with a private CITYLINKS_HOME and the shared Prefect API."""

    def __init__(self, tmp_path: Path, api_url: str | None):
        self.tmp = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYLINKS_", "PREFECT_API"))}
        self.env.update({"CITYLINKS_HOME": str(tmp_path / "home"), "CITYLINKS_CACHE_DIR": os.environ["CITYLINKS_CACHE_DIR"],
                         "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                         "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "INFO"})
        if api_url:
            self.env["PREFECT_API_URL"] = api_url
        self.count = 0

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        self.count += 1
        out = (self.tmp / f"cli-{self.count}.out").open("w")
        err = (self.tmp / f"cli-{self.count}.err").open("w")
        process = subprocess.Popen([str(CLI), *args], env={**self.env, **(env or {})}, stdout=out, stderr=err,
                                   cwd=self.tmp)
        process.out_path, process.err_path = Path(out.name), Path(err.name)
        return process

    def run(self, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        process = self.start(*args, env=env)
        process.wait(timeout=timeout)
        return completed(process)


def completed(process) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(process.args, process.returncode, process.out_path.read_text(),
                                       process.err_path.read_text())


@pytest.fixture
def cli(tmp_path, prefect_api):
    return Cli(tmp_path, prefect_api)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def loading_now(url: str, process) -> bool:
    """True while `process` is inside a source's load transaction (it has written, not committed)."""
    if "loading" not in process.err_path.read_text() + process.out_path.read_text():
        return False
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            db.execute("BEGIN IMMEDIATE")  # fails while another connection holds the write lock
            db.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            db.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")).scalar())
    finally:
        engine.dispose()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill(process, sig=signal.SIGKILL) -> None:
    os.kill(process.pid, sig)
