"""``python -m localdev.run`` as ``make run`` starts it: its own embedded PostgreSQL, then a clean stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # first start runs initdb; a bound for a broken start, not a performance assertion
STOP_TIMEOUT = 30
BANNER_API_LINE = re.compile(r"^\s+API\s+(http://127\.0\.0\.1:\d+)\s*$")


class RunningProcess:
    """The runner subprocess, with its output drained continuously so it never blocks on a full pipe."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localdev.run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_url(self) -> str:
        while True:
            try:
                line = self._queue.get(timeout=START_TIMEOUT)
            except queue.Empty:
                pytest.fail("the runner printed no banner:\n" + "".join(self.lines))
            if line is None:
                pytest.fail("the runner exited before serving:\n" + "".join(self.lines))
            self.lines.append(line)
            match = BANNER_API_LINE.match(line)
            if match:
                return match.group(1)

    def output(self) -> str:
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)


def is_alive(pid: int) -> bool:
    """Running, as opposed to gone or exited and waiting for init to reap it (a zombie)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def postgres_processes_of(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(process)
    return found


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "PUBLIC_BASE_URL", "LOCAL_JWT_SECRET") and not name.startswith("CHATWOOT_")
    }
    env.update(
        PYTHONPATH=f"{REPO_ROOT / 'layers' / 'common'}{os.pathsep}{REPO_ROOT}",
        PYTHONUNBUFFERED="1",
        PORT="0",
        SYNC_INTERVAL_SECONDS="0",
        LOCAL_STATE_DIR=str(tmp_path / "state"),
    )
    return env


@pytest.fixture
def running(runner_env: dict[str, str], tmp_path: Path) -> Iterator[RunningProcess]:
    running = RunningProcess(runner_env)
    try:
        yield running
    finally:
        # Only reached with work left when the test failed: leave no process of ours behind.
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(STOP_TIMEOUT)
        for process in postgres_processes_of((tmp_path / "state" / "pgdata").resolve()):
            process.terminate()


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_make_run_serves_health_on_its_own_postgres_and_stops_everything_on_a_signal(
    running: RunningProcess, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    pgdata = (tmp_path / "state" / "pgdata").resolve()

    url = running.wait_for_url()
    health = httpx.get(f"{url}/health", timeout=30)
    postmaster_pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    running.process.send_signal(stop_signal)
    exit_code = running.process.wait(STOP_TIMEOUT)

    assert health.status_code == 200, running.output()
    assert health.json() == {"status": "ok", "database": "ok"}
    assert exit_code == 0, running.output()
    assert not is_alive(postmaster_pid)
    assert postgres_processes_of(pgdata) == []
    output = running.output()
    assert "migrations: applied 0001_integrations" in output
    assert "GET /health -> 200" in output
    assert "Traceback" not in output
