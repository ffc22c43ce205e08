"""Shared pieces of the benchmarks: results, timing helpers, an isolated database, the summary table."""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.db import Database
from chatwoot_integration.observability import logger
from chatwoot_integration.uow import UnitOfWork
from localdev.invoke import exec_file
from localdev.migrate import migrate
from localdev.postgres import PostgresHandle, connect_or_start, recreate_database

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results.json"


@dataclass
class Result:
    """One figure, the limit it is compared with (measured in the same run), and the verdict.

    ``ratio`` is value / limit. ``target`` says which way is good, e.g. ``">= 0.5"`` (throughput against a
    bare-operation limit) or ``"<= 1.3"`` (time against a bare-operation limit).
    """

    name: str
    value: float
    unit: str
    limit: float | None = None
    ratio: float | None = None
    target: str | None = None
    ok: bool | None = None

    @classmethod
    def compared(cls, name: str, value: float, unit: str, limit: float, target: str) -> Result:
        ratio = value / limit if limit else float("inf")
        op, bound = target.split()
        ok = ratio >= float(bound) if op == ">=" else ratio <= float(bound)
        return cls(name=name, value=value, unit=unit, limit=limit, ratio=ratio, target=target, ok=ok)


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


@dataclass
class BenchContext:
    postgres: PostgresHandle

    @contextmanager
    def fresh_database(self, name: str) -> Iterator[Database]:
        """An empty, migrated database, installed in the handlers' graph for the benchmark's duration."""
        recreate_database(self.postgres.url, name)
        url = self.postgres.url_for(name)
        migrate(url)
        database = Database(lambda: url)
        bootstrap().configure(database=database)
        try:
            yield database
        finally:
            bootstrap().configure()
            database.close()


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def write_results(results: Sequence[Result]) -> None:
    RESULTS_PATH.write_text(
        json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=2) + "\n"
    )


def table(results: Sequence[Result]) -> str:
    def fmt(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"

    lines = [
        "| benchmark | value | unit | limit | ratio | target | ok |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for r in results:
        verdict = "-" if r.ok is None else ("yes" if r.ok else "NO")
        lines.append(
            f"| {r.name} | {fmt(r.value)} | {r.unit} | {fmt(r.limit)} | {fmt(r.ratio)} | {r.target or '-'} | {verdict} |"
        )
    return "\n".join(lines)


def start_postgres() -> PostgresHandle:
    state_dir = Path(os.environ.get("LOCAL_STATE_DIR", REPO_ROOT / ".local")) / "bench"
    return connect_or_start(os.environ.get("DATABASE_URL"), state_dir)


def load_function(function: str) -> ModuleType:
    """A fresh copy of ``functions/<function>/app.py``, initialised now (a cold start)."""
    return exec_file(REPO_ROOT / "functions" / function / "app.py", f"_bench_{function}_app")


class _Discard(io.TextIOBase):
    """stdout that keeps nothing: a StringIO would itself grow by one metric line per invocation."""

    def write(self, text: str) -> int:
        return len(text)


@contextmanager
def quiet() -> Iterator[None]:
    """Info logs, report lines and per-invocation metric lines off the console while measuring."""
    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        with redirect_stdout(_Discard()):
            yield
    finally:
        logger.setLevel(level)


def create_integration(database: Database, *, name: str, account_id: int, webhook_secret: str) -> int:
    with UnitOfWork(database) as uow:
        integration = uow.integrations.insert(
            {
                "tenant": "bench",
                "name": name,
                "base_url": "http://127.0.0.1:3100",
                "account_id": account_id,
                "credentials": {"api_token": "bench-token", "webhook_secret": webhook_secret},
            }
        )
    return integration.id


def delivery_outcomes(database: Database, integration_id: int) -> dict[str, int]:
    """How many of the integration's recorded deliveries ended in each status."""
    with UnitOfWork(database, read_only=True) as uow:
        return uow.deliveries.count_by_status(integration_id)
